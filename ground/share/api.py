"""The REST API of one party (FastAPI; OpenAPI description at /openapi.json). Every request
carries an attribute assertion (``Authorization: Bearer <JWT>``) that this party verifies itself.
Results stream from disk in chunks; nothing is loaded whole."""
from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from ground.share.attributes import Assertion, AssertionRejected
from ground.share.engine import MEDIA_TYPES
from ground.share.party import NotFound, Party


class JobRequest(BaseModel):
    source: str = Field(description="Catalogue name of the source to run on")
    kind: str = Field(description="mapreduce (map(record) -> pairs, reduce(key, values)) or batches (map(batch))")
    code: str = Field(description="Python source defining map (and reduce)")
    wrap: list[dict[str, Any]] = Field(default_factory=list,
                                       description="Resellers' modifying maps to apply after this party's, in order")


class JobView(BaseModel):
    id: str
    source: str
    kind: str
    engine: str
    state: str
    reason: str
    records: int
    result_bytes: int
    created: float
    updated: float


def create_app(party: Party, own_lifecycle: bool = False) -> FastAPI:
    """The party's API; with ``own_lifecycle`` the app starts the party and stops it (its engine,
    pool processes and Dask client included) when the server shuts down."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if own_lifecycle:
            party.start()
        try:
            yield
        finally:
            if own_lifecycle:
                party.stop()

    app = FastAPI(title=f"OPALS data sharing: {party.name}",
                  description="Push analysis to the data: catalogue of sources and sandboxed analysis jobs.",
                  version="1", lifespan=lifespan)

    def caller(request: Request) -> Assertion:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            raise HTTPException(401, "an attribute assertion is required (Authorization: Bearer <JWT>)")
        try:
            return party.trust.verify(header[7:].strip())
        except AssertionRejected as exc:
            raise HTTPException(401, f"assertion rejected: {exc.reason}") from None

    @app.get("/catalogue", summary="Sources this caller may see")
    def list_catalogue(who: Assertion = Depends(caller)) -> list[dict[str, Any]]:
        return party.catalogue(who)

    @app.get("/catalogue/{name}", summary="One source: chain, attributes, size, schema, sample")
    def get_entry(name: str, who: Assertion = Depends(caller)) -> dict[str, Any]:
        try:
            return party.catalogue_entry(who, name)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.post("/jobs", status_code=201, response_model=JobView, summary="Submit a job (pending or rejected)")
    def submit(req: JobRequest, who: Assertion = Depends(caller)) -> dict[str, Any]:
        try:
            return party.submit(who, req.source, req.kind, req.code, req.wrap).public()
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/jobs", response_model=list[JobView], summary="The caller's own jobs")
    def list_jobs(who: Assertion = Depends(caller)) -> list[dict[str, Any]]:
        return [j.public() for j in party.jobs_for(who)]

    @app.get("/jobs/{job_id}", response_model=JobView)
    def get_job(job_id: str, who: Assertion = Depends(caller)) -> dict[str, Any]:
        try:
            return party.job_for(who, job_id).public()
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/jobs/{job_id}/result", summary="Stream the result (JSON lines or Arrow IPC stream)")
    def get_result(job_id: str, who: Assertion = Depends(caller)) -> FileResponse:
        try:
            job = party.job_for(who, job_id)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        if job.state != "completed":
            raise HTTPException(409, f"job is {job.state}" + (f": {job.reason}" if job.reason else ""))
        return FileResponse(party.result_path(job), media_type=MEDIA_TYPES[job.kind])

    return app
