from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from graph.client import get_graph
from graph.schema import schema_version

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    neo4j: str
    schema_version: int | None


@router.get("/health", response_model=Health)
def health() -> Health:
    graph = get_graph()
    agent = graph.verify()
    return Health(status="ok", neo4j=agent, schema_version=schema_version(graph))
