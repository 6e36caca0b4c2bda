"""Use cases: each module queries, calls rules, the engine or the router, flushes and audits;
the request or the job commits."""
