"""On-demand feature views: features computed from other features and request data.

The transformation is a plain function from a polars DataFrame to a polars DataFrame. The
registry stores it by import path (``module:function``) plus a hash of its source, never
pickled; a reader imports it and refuses to run it if its source has changed since apply.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from featurestore._frozen import FrozenDict
from featurestore.definitions._base import (
    caller_location,
    check_name,
    check_text,
    definition_error,
    freeze_tags,
)
from featurestore.definitions.feature_view import FeatureView
from featurestore.definitions.field import Field
from featurestore.definitions.sources import RequestSource, check_schema
from featurestore.errors import DefinitionError

Transform = Callable[[pl.DataFrame], pl.DataFrame]


def source_hash(fn: Callable[..., object]) -> str:
    """SHA-256 of a function's source, ignoring its indentation."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError) as exc:
        msg = f"cannot read the source of {fn!r}; define it in a .py file of the repo"
        raise DefinitionError(msg) from exc
    return hashlib.sha256(source.encode()).hexdigest()


@dataclass(frozen=True, init=False)
class OnDemandFeatureView:
    """Features computed at retrieval time from feature views and request data."""

    name: str
    sources: tuple[FeatureView | RequestSource, ...]
    schema: tuple[Field, ...]
    function: str
    source_hash: str
    owner: str = ""
    tags: FrozenDict = field(default_factory=FrozenDict)
    description: str = ""
    location: str = field(default="", compare=False, repr=False)
    udf: Transform | None = field(default=None, compare=False, repr=False)

    def __init__(
        self,
        name: str,
        sources: Sequence[FeatureView | RequestSource],
        schema: Sequence[Field],
        function: str,
        source_hash: str,
        owner: str = "",
        tags: Mapping[str, str] | None = None,
        description: str = "",
        *,
        udf: Transform | None = None,
        location: str | None = None,
    ) -> None:
        loc = caller_location() if location is None else location
        kind = "OnDemandFeatureView"
        check_name(kind, name, loc)
        srcs = tuple(sources or ())
        if not srcs or not all(isinstance(s, (FeatureView, RequestSource)) for s in srcs):
            problem = f"got {sources!r}; expected a list of FeatureView and RequestSource"
            raise definition_error(kind, name, "sources", problem, loc)
        fields = check_schema(kind, name, schema, loc)
        if ":" not in function:
            problem = f"got {function!r}; expected 'module:function'"
            raise definition_error(kind, name, "function", problem, loc)
        check_text(kind, name, "owner", owner, loc)
        check_text(kind, name, "description", description, loc)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "sources", srcs)
        object.__setattr__(self, "schema", fields)
        object.__setattr__(self, "function", function)
        object.__setattr__(self, "source_hash", source_hash)
        object.__setattr__(self, "owner", owner)
        object.__setattr__(self, "tags", freeze_tags(kind, name, tags, loc))
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "location", loc)
        object.__setattr__(self, "udf", udf)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.schema)

    @property
    def source_views(self) -> tuple[FeatureView, ...]:
        return tuple(s for s in self.sources if isinstance(s, FeatureView))

    @property
    def request_sources(self) -> tuple[RequestSource, ...]:
        return tuple(s for s in self.sources if isinstance(s, RequestSource))

    def transform(self) -> Transform:
        """The transformation, imported by path and checked against the applied source hash."""
        if self.udf is not None:
            return self.udf
        module_name, _, qualname = self.function.partition(":")
        try:
            obj: object = importlib.import_module(module_name)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            msg = (
                f"on-demand view {self.name!r}: cannot import its transformation "
                f"{self.function!r} ({exc}); run from the feature repo or put it on PYTHONPATH"
            )
            raise DefinitionError(msg) from exc
        fn = obj.udf if isinstance(obj, OnDemandFeatureView) else obj
        if not callable(fn):
            msg = f"on-demand view {self.name!r}: {self.function!r} is not a function"
            raise DefinitionError(msg)
        if source_hash(fn) != self.source_hash:
            msg = (
                f"on-demand view {self.name!r}: the source of {self.function!r} changed since "
                "it was applied; run `featurestore plan` and `featurestore apply`"
            )
            raise DefinitionError(msg)
        object.__setattr__(self, "udf", fn)
        return fn

    def compute(self, inputs: pl.DataFrame) -> pl.DataFrame:
        """Run the transformation on ``inputs`` (source features by feature name, request
        fields by field name) and return exactly the schema's columns, cast to their types.
        """
        try:
            out = self.transform()(inputs)
        except Exception as exc:
            msg = (
                f"on-demand view {self.name!r}: {self.function} raised {type(exc).__name__}: {exc}"
            )
            raise DefinitionError(msg) from exc
        if not isinstance(out, pl.DataFrame):
            msg = (
                f"on-demand view {self.name!r}: {self.function} returned "
                f"{type(out).__name__}; it must return a polars DataFrame"
            )
            raise DefinitionError(msg)
        missing = [f.name for f in self.schema if f.name not in out.columns]
        if missing or out.height != inputs.height:
            problem = (
                f"lacks columns {missing}"
                if missing
                else f"has {out.height} rows, not {inputs.height}"
            )
            msg = f"on-demand view {self.name!r}: the frame returned by {self.function} {problem}"
            raise DefinitionError(msg)
        columns = []
        for f in self.schema:
            target = _polars_dtype(f.dtype.to_arrow())
            try:
                columns.append(out.get_column(f.name).cast(target))
            except pl.exceptions.PolarsError as exc:
                msg = (
                    f"on-demand view {self.name!r}: column {f.name!r} is "
                    f"{out.schema[f.name]}, which does not cast to {f.dtype} ({exc})"
                )
                raise DefinitionError(msg) from None
        return pl.DataFrame(columns)

    def __getitem__(self, features: Sequence[str]) -> OnDemandFeatureView:
        names = (features,) if isinstance(features, str) else tuple(features)
        unknown = [f for f in names if f not in self.feature_names]
        if unknown or not names:
            problem = (
                f"projection asks for {unknown or 'no features'}; "
                f"the view has {list(self.feature_names)}"
            )
            raise definition_error(
                "OnDemandFeatureView", self.name, "schema", problem, caller_location()
            )
        return self


def on_demand_feature_view(
    *,
    sources: Sequence[FeatureView | RequestSource],
    schema: Sequence[Field],
    name: str | None = None,
    owner: str = "",
    tags: Mapping[str, str] | None = None,
    description: str = "",
) -> Callable[[Transform], OnDemandFeatureView]:
    """Decorate ``fn(df: pl.DataFrame) -> pl.DataFrame`` to define an on-demand view.

    The input frame has the source views' features (by feature name) and the request
    sources' fields; the output must have every field of ``schema``.
    """
    loc = caller_location()

    def wrap(fn: Transform) -> OnDemandFeatureView:
        if not callable(fn):
            raise definition_error(
                "OnDemandFeatureView", str(fn), "function", "is not a function", loc
            )
        return OnDemandFeatureView(
            name=name or fn.__name__,
            sources=sources,
            schema=schema,
            function=f"{fn.__module__}:{fn.__qualname__}",
            source_hash=source_hash(fn),
            owner=owner,
            tags=tags,
            description=description or (inspect.getdoc(fn) or ""),
            udf=fn,
            location=loc,
        )

    return wrap


@functools.cache
def _polars_dtype(arrow_type: pa.DataType) -> pl.DataType:
    """The polars type an Arrow type converts to (cached: ``compute`` is on the read path)."""
    return pl.from_arrow(pa.array([], arrow_type)).dtype  # type: ignore[union-attr]
