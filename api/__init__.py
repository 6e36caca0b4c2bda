"""The HTTP layer: ``create_app`` builds the Flask app over the dispatch domain."""

from __future__ import annotations

import logging
from typing import Any

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, Response
from flask_smorest import Api
from marshmallow import Schema

from api import auth, console, errors
from api.config import flask_config
from api.resources import register_resources
from dispatch import config, db, queue
from dispatch.config import Settings

log = logging.getLogger(__name__)


class CareApi(Api):
    """flask-smorest's Api with our error body for the errors it raises itself."""

    def handle_http_exception(self, error: Any) -> Any:
        return errors.handle_http(error)

    def _register_responses(self) -> None:
        super()._register_responses()
        error_schema = {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "VALIDATION_ERROR"},
                "message": {"type": "string"},
                "errors": {"type": "object"},
            },
            "required": ["code", "message"],
        }
        for name in ("DEFAULT_ERROR", "UNPROCESSABLE_CONTENT"):
            response = self.spec.components.responses.get(name)
            if response:
                response["content"] = {"application/json": {"schema": error_schema}}


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
    db.configure(settings.database_url)

    api = CareApi(
        app,
        spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name)},
    )
    auth.init_app(app)
    errors.register(app)
    register_resources(api)
    app.register_blueprint(console.bp)

    @app.after_request
    def _commit(response: Response) -> Response:
        # One commit per request, only when it succeeded.
        session = db.Session()
        if response.status_code < 400:
            session.commit()
            queue.flush_pending(session)
        else:
            session.rollback()
            queue.discard_pending(session)
        return response

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        db.Session.remove()

    return app
