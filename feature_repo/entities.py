"""Who and what the streaming features describe."""

from featurestore import Entity

member = Entity(
    name="member",
    join_keys=["member_id"],
    description="A subscriber account; profiles share the account's member_id.",
    owner="member-data@streaming.example",
    tags={"pii": "false", "domain": "membership"},
)

title = Entity(
    name="title",
    join_keys=["title_id"],
    description="A film or a series in the catalog (a series is one title).",
    owner="catalog-data@streaming.example",
    tags={"domain": "catalog"},
)
