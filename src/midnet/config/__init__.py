"""Everything that is configuration: the shipped presets, the one composition rule, the schemas.

Why the presets (``presets/*.yaml``) live inside the package: a user who installed midnet with
pip has no repository checkout, yet ``midnet train --config cpu-small`` must work in any
folder. A name is looked up there; anything that looks like a path (has a suffix or a slash) is
read from disk.

Composition, the same for every kind of config (training, benchmark)::

    schema defaults  <-  YAML file (by name or path)  <-  --set a.b=c (dotted updates, in order)

and the result is validated once by a pydantic model (``extra="forbid"``), so a typo or a
wrong type fails before any work starts with one line naming the key and the fix
(:class:`ConfigError`). The schemas: :mod:`midnet.config.train` (:class:`TrainConfig`, its
``version``, the one resume rule) and :mod:`midnet.config.benchmark` (:class:`BenchmarkConfig`);
both are re-exported here, imported on first use (``midnet config list`` and ``--help`` do not
pay for torch, which the schemas' data and model imports bring).
"""

from __future__ import annotations

import copy
import types
import typing
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from midnet.config.benchmark import BenchmarkConfig, load_benchmark_config
    from midnet.config.train import CONFIG_VERSION, RESUMABLE_KEYS, TrainConfig, load_config, resume_config

__all__ = ["ConfigError", "available", "find", "read_yaml", "apply_set", "compose", "validate", "merge", "dump",
           "describe", "PRESETS",
           # re-exported from the schema modules (imported on first use, see __getattr__)
           "TrainConfig", "load_config", "resume_config", "RESUMABLE_KEYS", "CONFIG_VERSION",
           "BenchmarkConfig", "load_benchmark_config"]

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration problem, as one line: ``<where>: <key>: <what is wrong>; <the fix>``."""


#: the folder inside this package that holds the shipped presets (package data)
PRESETS = "presets"


def _folder() -> Path:
    return Path(str(resources.files(__name__))) / PRESETS


def available() -> list[str]:
    """Names of the shipped configs (preset file stems), sorted."""
    return sorted(p.stem for p in _folder().glob("*.yaml"))


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml")) or ref.startswith(".")


def find(ref: str | Path) -> Path:
    """The file for a shipped config name (``cpu-small``) or a path; a clear error otherwise."""
    text = str(ref)
    if not _looks_like_path(text):
        path = _folder() / f"{text}.yaml"
        if path.is_file():
            return path
        raise ConfigError(f"{text}: no shipped config of that name; choose one of {', '.join(available())} "
                          f"(midnet config list) or give a path to a YAML file")
    path = Path(text)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; give an existing YAML file or a shipped name "
                          f"({', '.join(available())})")
    return path


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in a YAML file (an empty file is an empty mapping)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a config file must be a YAML mapping (key: value lines)")
    return doc


def apply_set(doc: dict[str, Any], text: str) -> dict[str, Any]:
    """Apply one ``a.b.c=value`` update (value parsed as YAML) to a copy of ``doc``.

    Intermediate mappings are created when missing; unknown keys are left for the schema to
    reject, so the error names the full dotted key either way.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set {text!r}: write KEY=VALUE with a dotted key, e.g. --set optim.lr=5e-4")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise ConfigError(f"--set {text!r}: the value is not valid YAML; quote it, e.g. --set '{key}=[a, b]'") \
            from None
    out = copy.deepcopy(doc)
    cursor = out
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        nxt = cursor.get(part)
        if nxt is None:
            nxt = cursor[part] = {}
        if not isinstance(nxt, dict):
            raise ConfigError(f"--set {text!r}: {'.'.join(parts[:i + 1])} is a value, not a section")
        cursor = nxt
    cursor[parts[-1]] = value
    return out


def _members(annotation: Any) -> list[type[BaseModel]]:
    """The model classes of a (possibly ``Annotated``/optional) union annotation; [] for anything else."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return []
    out = []
    for arg in typing.get_args(annotation):
        while typing.get_origin(arg) is typing.Annotated:
            arg = typing.get_args(arg)[0]
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            out.append(arg)
    return out


def _tagged(members: list[type[BaseModel]], tag: Any) -> type[BaseModel] | None:
    """The member of a discriminated union whose tag (a ``Literal`` field) is ``tag``."""
    for member in members:
        for field in member.model_fields.values():
            if typing.get_origin(field.annotation) is typing.Literal and tag in typing.get_args(field.annotation):
                return member
    return None


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[str, Any]:
    """The dotted key of a pydantic error location (validator and union tags left out), and the
    model section it ends in (None where it is not one)."""
    names: list[str] = []
    current: Any = model
    for part in loc:
        if isinstance(part, str) and part.startswith(("function-", "union[")):
            continue
        members = _members(current)
        if members:  # a discriminated union: the part is the tag, not a key the user wrote
            chosen = _tagged(members, part)
            if chosen is not None:
                current = chosen
                continue
        names.append(str(part))
        if isinstance(part, int) and typing.get_origin(current) is list:  # an item of a list of sections
            current = typing.get_args(current)[0]
            continue
        fields = getattr(current, "model_fields", None)
        current = fields[part].annotation if fields and part in fields else None
    return ".".join(names), current


def format_error(exc: ValidationError, source: str, model: type[BaseModel]) -> ConfigError:
    """The first problem of a pydantic error as one line naming the key and the fix."""
    err = exc.errors()[0]
    where = _walk(model, err["loc"])[0] or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        known = _known_keys(model, err["loc"][:-1])
        fix = f"known keys here: {', '.join(known)}" if known else "remove it"
        message = f"{where}: unknown key; {fix} (midnet config show NAME lists a full config)"
    elif kind == "missing":
        message = f"{where}: required; add it to the config or pass --set {where}=..."
    else:
        got = err.get("input")
        text = err["msg"].removeprefix("Value error, ")
        shown = "" if "(got " in text or (isinstance(got, (dict, list)) and len(repr(got)) > 60) else f" (got {got!r})"
        message = f"{where}: {text}{shown}; fix it in the file or with --set {where}=..."
    return ConfigError(f"{source}: {message}")


def _known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model section at ``loc`` that a config may set, best effort."""
    section = _walk(model, loc)[1]
    fields = getattr(section, "model_fields", None)
    return sorted(k for k, f in fields.items() if not f.exclude) if fields else []


def compose(model: type[M], ref: str | Path | None = None, sets: list[str] | tuple[str, ...] = (), *,
            base: dict[str, Any] | None = None) -> M:
    """``model`` validated from ``base`` <- the config ``ref`` (name or path) <- ``sets``."""
    doc: dict[str, Any] = copy.deepcopy(base or {})
    source = "config"
    if ref is not None:
        path = find(ref)
        source = str(ref) if not _looks_like_path(str(ref)) else str(path)
        doc = merge(doc, read_yaml(path))
    for text in sets:
        doc = apply_set(doc, text)
    if sets:
        source += " with --set"
    return validate(model, doc, source=source)


def validate(model: type[M], doc: dict[str, Any], *, source: str = "config") -> M:
    """``model.model_validate(doc)``, its errors turned into one :class:`ConfigError` line."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise format_error(exc, source, model) from None


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive mapping merge (``update`` wins); only plain dict values merge into dicts."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def dump(config: BaseModel) -> str:
    """The fully resolved config as YAML (what a run folder's ``config.yaml`` holds)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def describe(name: str) -> str:
    """The first comment line of a shipped config (what it is for)."""
    for line in find(name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
        if line.strip():
            break
    return ""


#: re-exports from the schema modules, imported on first use (start-up time only: both import torch)
_TRAIN = ("TrainConfig", "load_config", "resume_config", "RESUMABLE_KEYS", "CONFIG_VERSION")
_BENCHMARK = ("BenchmarkConfig", "load_benchmark_config")


def __getattr__(name: str) -> Any:
    if name in _TRAIN:
        from midnet.config import train as module
    elif name in _BENCHMARK:
        from midnet.config import benchmark as module  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)
