"""The HTTP layer: ``create_app`` builds the Flask app over the dispatch domain."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, Response, request
from flask_smorest import Api
from marshmallow import Schema
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from api import auth, console, errors
from api.blueprint import Blueprint, IdConverter, id_parameter_schema
from api.config import flask_config
from api.fields import decimal_properties
from api.resources import register_resources
from dispatch import config, db, error_codes, queue
from dispatch.config import Settings

log = logging.getLogger(__name__)


class ErrorSchema(Schema):
    """The body of every 4xx/5xx answer."""

    code = ma.fields.String(
        required=True, metadata={"description": "Stable code, e.g. VALIDATION_ERROR"}
    )
    message = ma.fields.String(
        required=True, metadata={"description": "What to fix (Accept-Language: zh-CN)"}
    )
    errors = ma.fields.Dict(metadata={"description": "Field or row -> what is wrong with it"})


class CareApi(Api):
    """flask-smorest's Api with our error body, bounded ids and pages (``api.blueprint``)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: Any) -> Any:
        return errors.handle_http(error)

    def register_blueprint(self, blp: Any, *, parameters: Any = None, **options: Any) -> None:
        if not isinstance(blp, Blueprint):
            raise TypeError(
                f"blueprint {blp.name!r}: use api.blueprint.Blueprint, which bounds ids and pages"
            )
        super().register_blueprint(blp, parameters=parameters, **options)


def schema_name(schema: Any) -> str:
    """Component name: the class name without "Schema"; partial (PATCH) variants get "Patch"."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    if isinstance(schema, Schema) and schema.partial:
        name += "Patch"
    return name


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = settings or Settings.from_env()
    config.use(settings)
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(flask_config(settings))
    app.config.update(overrides)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        # The client's address (login throttling, audit) comes from the proxies' header.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    db.configure(settings.database_url)

    # Before any route exists: every <int:...> in a path is a bounded id.
    app.url_map.converters["int"] = IdConverter
    plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
    api = CareApi(app, spec_kwargs={"marshmallow_plugin": plugin})
    api.register_converter(IdConverter, id_parameter_schema)
    plugin.converter.add_attribute_function(decimal_properties)  # type: ignore[union-attr]
    auth.init_app(app)
    errors.register(app)
    register_resources(api)
    app.register_blueprint(console.bp)

    @app.after_request
    def _commit(response: Response) -> Response:
        # One commit per request, only when it succeeded.
        session = db.Session()
        if response.status_code >= 400 and not db.kept_on_refusal(session):
            session.rollback()
            queue.discard_pending(session)
            return response
        if queue.has_pending(session) and not queue.reachable():
            # A job that cannot be queued would leave its plan "optimizing" for nobody:
            # nothing of this request is committed, and the client retries.
            session.rollback()
            queue.discard_pending(session)
            error, status = errors.handle_domain(error_codes.QUEUE_UNAVAILABLE())
            error.status_code = status
            return error
        try:
            session.commit()
        except SQLAlchemyError as exc:
            # Nothing was stored: the answer says why (a conflict, a database that went away).
            session.rollback()
            queue.discard_pending(session)
            error, status = errors.handle_database_error(exc)
            error.status_code = status
            return error
        try:
            queue.flush_pending(session)
        except RedisError:
            # Redis went away between the check and the send (a window of milliseconds): the
            # request's rows are committed and its job is lost, as when a worker dies.
            log.exception("queuing jobs failed after commit: %s %s", request.method, request.path)
        return response

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.Session.remove()

    return app
