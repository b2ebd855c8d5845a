"""The only code that talks to Neo4j: schema, Cypher, repositories and record types."""
