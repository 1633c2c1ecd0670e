"""An external GraphQL client (gql over httpx with a client certificate) against the real server."""

from __future__ import annotations

from api_world import World
from gql import Client, gql
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLSchema


def test_gql_client_introspects_the_schema_and_runs_a_query_over_mtls(world: World) -> None:
    user = world.user("some101")
    transport = HTTPXTransport(url=f"{world.url}/graphql", verify=user.ssl_context(world.ca_file), timeout=30)
    query = gql(
        """
        query Overblik($catalog: String!) {
          me { login }
          execute(catalog: $catalog, query: {
            cube: "Ukraine Statistik", measures: ["[Measures].[Nettoindvandring]"], rows: [{level: "[Aldersgruppe].[Aldersgruppe].[Aldersgruppe]"}]
          }) { dataAsOf rowset { columns { name kind } rows } }
        }
        """
    )
    query.variable_values = {"catalog": "FLIS Ukraine-101"}
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        result = session.execute(query)
        schema = session.client.schema
    assert isinstance(schema, GraphQLSchema)
    assert {"me", "catalogs", "catalog", "execute"} <= set(schema.query_type.fields)  # type: ignore[union-attr]
    assert schema.mutation_type is None
    assert result["me"]["login"] == user.login
    rowset = result["execute"]["rowset"]
    assert [c["kind"] for c in rowset["columns"]] == ["level", "measure"]
    assert len(rowset["rows"]) >= 2 and all(isinstance(row[1], (int, float)) for row in rowset["rows"])
