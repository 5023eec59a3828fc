"""The ceiling: the least a FastAPI app on uvicorn does per request, a JSON hello.

`GET /` is an `async def` endpoint (runs on the event loop, like Mockgram's discovery);
`GET /sync` is the same as a plain `def` endpoint, which FastAPI runs in its thread pool, as
it runs every endpoint that touches the database.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/sync")
def hello_in_thread_pool() -> dict[str, str]:
    return {"hello": "world"}
