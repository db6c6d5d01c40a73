"""Plugin discovery: entry points read once per process, when the app (or a CLI command) asks.

Groups and their interfaces are declared in :mod:`cowin_kit.plugins.interfaces`.
A plugin that fails to load is recorded with the reason and skipped; it never stops
the app from starting.

Reading the entry points of every installed distribution and importing the plugins costs
tens of milliseconds, paid by every ``create_app``; a process (a test session creates an app
per test) therefore reads them once per import path, ``sys.path``. A distribution installed
into a folder already on the path while the process runs is seen after
:func:`forget_plugins`.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from cowin_kit.plugins.interfaces import GROUPS


@dataclass
class LoadedPlugin:
    group: str
    name: str
    value: str  # "module:object"
    distribution: str
    obj: Any = None
    error: str | None = None
    enabled: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None


TRANSLATIONS_GROUP = "cowin_kit.translations"


@dataclass
class PluginRegistry:
    plugins: list[LoadedPlugin] = field(default_factory=list)

    def translation_dirs(self) -> list[Path]:
        """Folders of plugin catalogues (``<lang>/LC_MESSAGES/messages.mo``)."""
        return [p.obj for p in self.plugins if p.group == TRANSLATIONS_GROUP and p.ok]

    def group(self, group: str, only_ok: bool = True) -> dict[str, LoadedPlugin]:
        return {p.name: p for p in self.plugins
                if p.group == group and (p.ok and p.enabled or not only_ok)}

    def get(self, group: str, name: str) -> Any | None:
        plugin = self.group(group).get(name)
        return plugin.obj if plugin else None


def _check(group: str, obj: Any) -> str | None:
    """Why ``obj`` does not implement its group's interface, or None.

    A subclass of the interface inherits every name, so a method counts as implemented
    only when the plugin overrides the interface's own (optional ones excepted), and a
    declared attribute only when it is set.
    """
    interface = GROUPS[group]
    missing = []
    for name in interface.required_members():
        value = getattr(obj, name, None)
        if value is None:
            missing.append(name)
        elif callable(getattr(interface, name, None)) and name not in interface.optional_members():
            if getattr(value, "__func__", value) is getattr(interface, name):
                missing.append(name)
        elif (isinstance(getattr(interface, name, None), str) and not value
              and name not in interface.optional_members()):
            missing.append(name)
    if missing:
        return f"does not implement {interface.__name__}: missing {', '.join(missing)}"
    return None


def discover(enabled: dict[str, list[str]] | None = None) -> PluginRegistry:
    """Every plugin of every plugin group, with those ``enabled`` marked so.

    ``enabled`` maps a group to the names to enable; a missing or empty list enables all.
    The plugins are loaded once per ``sys.path`` (see the module's docstring); each call gets
    its own registry, so which ones are enabled is per deployment.
    """
    enabled = enabled or {}
    plugins = []
    for plugin in _loaded():
        wanted = enabled.get(plugin.group) or []
        plugins.append(replace(plugin, enabled=not wanted or plugin.name in wanted))
    return PluginRegistry(plugins)


# The plugins loaded for one import path: (tuple(sys.path), plugins). One entry only, so a
# test that puts a folder of plugins on the path and takes it off again leaves nothing behind.
_cache: tuple[tuple[str, ...], list[LoadedPlugin]] | None = None


def forget_plugins() -> None:
    """Read the entry points again at the next :func:`discover` (after installing a plugin)."""
    global _cache
    _cache = None


def _loaded() -> list[LoadedPlugin]:
    global _cache
    key = tuple(sys.path)
    if _cache is None or _cache[0] != key:
        _cache = (key, [*_load_groups(), *_translation_plugins()])
    return _cache[1]


def _load_groups() -> list[LoadedPlugin]:
    """Load every entry point of every plugin group (all enabled; discover() marks them)."""
    found = []
    for group in GROUPS:
        eps: list[EntryPoint] = sorted(entry_points(group=group), key=lambda e: e.name)
        for ep in eps:
            dist = ep.dist.name if ep.dist else "?"
            plugin = LoadedPlugin(group=group, name=ep.name, value=ep.value, distribution=dist)
            try:
                plugin.obj = ep.load()
            except (Exception, SystemExit) as exc:  # any failure of third-party code
                plugin.error = f"cannot be imported: {type(exc).__name__}: {exc}"
            else:
                plugin.error = _check(group, plugin.obj)
            found.append(plugin)
    return found


def _translation_plugins() -> list[LoadedPlugin]:
    """Entry points of group cowin_kit.translations name a package holding catalogues."""
    found = []
    for ep in sorted(entry_points(group=TRANSLATIONS_GROUP), key=lambda e: e.name):
        plugin = LoadedPlugin(group=TRANSLATIONS_GROUP, name=ep.name, value=ep.value,
                              distribution=ep.dist.name if ep.dist else "?")
        try:
            module = ep.load()
            folder = Path(module.__file__).parent
        except (Exception, SystemExit) as exc:  # third-party code may fail in any way
            plugin.error = f"cannot be imported: {type(exc).__name__}: {exc}"
        else:
            if not any(folder.glob("*/LC_MESSAGES/messages.mo")):
                plugin.error = f"{folder} holds no <lang>/LC_MESSAGES/messages.mo"
            else:
                plugin.obj = folder
        found.append(plugin)
    return found
