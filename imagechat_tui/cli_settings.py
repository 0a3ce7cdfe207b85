"""A command's options generated from a settings dataclass (as Harlequin builds its CLI from
option objects): each field declared with ``config.setting`` becomes one typer option, and
the command receives the settings object already built. See server/config.py for how to add
an option."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, TypeVar

import typer

from imagechat_tui.cli_options import HELP_ALL, HelpAllOption, one_of
from imagechat_tui.server.config import GROUP, SETTING, Setting, env_var

S = TypeVar("S")


@dataclasses.dataclass(frozen=True, slots=True)
class _Option:
    name: str
    annotation: Any
    default: Any
    setting: Setting
    group: str | None  # the nested dataclass field it belongs to, if any


def _options(cls: type[Any]) -> Iterator[_Option]:
    """The options of ``cls``, in field order, nested groups flattened in place."""
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        if SETTING in f.metadata:
            yield _Option(
                f.name, hints[f.name], getattr(defaults, f.name), f.metadata[SETTING], None
            )
        elif GROUP in f.metadata:
            inner = getattr(defaults, f.name)
            inner_hints = typing.get_type_hints(type(inner))
            for name, spec in f.metadata[GROUP].items():
                yield _Option(name, inner_hints[name], getattr(inner, name), spec, f.name)


def _parameter(option: _Option) -> inspect.Parameter:
    spec = option.setting
    annotation = option.annotation
    choices = typing.get_args(annotation) if typing.get_origin(annotation) is Literal else ()
    info = typer.Option(
        envvar=env_var(option.name),
        help=f"{spec.help} One of {', '.join(choices)}." if choices else spec.help,
        min=spec.min,
        max=spec.max,
        metavar=spec.metavar,
        file_okay=not spec.directory,
        rich_help_panel=spec.panel,  # PlainCommand's groups (not rich: its help is plain)
        # A choice is a string checked by us: the library's answer is "Value error, …".
        callback=one_of(choices) if choices else None,
    )
    return inspect.Parameter(
        option.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[str if choices else annotation, info],
        default=option.default,
    )


def build(cls: type[S], values: dict[str, Any]) -> S:
    """``cls`` from the options' parsed ``values`` (fields without an option keep their
    defaults)."""
    defaults = cls()
    kwargs: dict[str, Any] = {}
    groups: dict[str, dict[str, Any]] = {}
    for option in _options(cls):
        if option.group is None:
            kwargs[option.name] = values[option.name]
        else:
            groups.setdefault(option.group, {})[option.name] = values[option.name]
    for group, inner in groups.items():
        kwargs[group] = dataclasses.replace(getattr(defaults, group), **inner)
    return cls(**kwargs)


def settings_command(cls: type[S], run: Callable[[S], None]) -> Callable[..., None]:
    """A typer command whose options are ``cls``'s settings; it calls ``run(cls(...))``.
    Its help is ``run``'s docstring."""

    def command(**values: Any) -> None:
        run(build(cls, values))

    parameters = [_parameter(option) for option in _options(cls)]
    if any(option.setting.panel for option in _options(cls)):
        parameters.append(
            inspect.Parameter(
                HELP_ALL, inspect.Parameter.KEYWORD_ONLY, annotation=HelpAllOption, default=False
            )
        )
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__name__ = run.__name__
    command.__doc__ = run.__doc__
    return command
