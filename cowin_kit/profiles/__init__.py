"""Country profiles: finding, reading and validating ``<CODE>/profile.toml``."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from cowin_kit.paths import profiles_dir

PROFILE_FILE = "profile.toml"


class ProfileError(Exception):
    """A profile is missing or invalid. ``problems`` holds (field, reason) pairs."""

    def __init__(self, file: Path | str, problems: list[tuple[str, str]]):
        self.file = str(file)
        self.problems = problems
        lines = [f"{self.file}: {field}: {reason}" for field, reason in problems]
        super().__init__("\n".join(lines))


class UnknownCountry(LookupError):
    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


@dataclass(frozen=True)
class Profile:
    data: dict[str, Any]
    path: Path  # the folder that holds profile.toml
    checksum: str

    @property
    def code(self) -> str:
        return self.data["code"]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def languages(self) -> list[str]:
        return list(self.data["languages"])

    @property
    def default_language(self) -> str:
        return self.data["languages"][0]

    def fallback_languages(self, lang: str) -> list[str]:
        """The languages whose names stand in, in order, where one in ``lang`` is missing:
        the profile's ``language_fallbacks``, else its first language (none for English,
        whose readers get ISO 3166-2's Latin-script names, nor for the first language)."""
        declared = (self.data.get("language_fallbacks") or {}).get(lang)
        if declared is not None:
            return list(declared)
        if lang in (self.default_language, "en"):
            return []
        return [self.default_language]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def todo_count(self) -> int:
        """TODO markers left in profile.toml (a scaffold has many)."""
        try:
            return (self.path / PROFILE_FILE).read_text(encoding="utf-8").count("TODO")
        except OSError:
            return 0

    def demo_file(self, name: str) -> Path | None:
        path = self.path / "demo" / name
        return path if path.exists() else None


def shipped_codes() -> list[str]:
    root = profiles_dir()
    return sorted(p.name for p in root.iterdir() if (p / PROFILE_FILE).is_file())


def profile_path(code: str) -> Path:
    return profiles_dir() / code.upper()


def load_profile_file(path: Path | str, expected_code: str | None = None) -> Profile:
    """Read and validate ``path`` (a profile.toml or the folder that holds it)."""
    from cowin_kit.profiles.schema import ProfileSchema, flatten_errors

    path = Path(path)
    file = path / PROFILE_FILE if path.is_dir() else path
    if not file.is_file():
        raise ProfileError(file, [("(file)", "does not exist; a profile is a folder holding "
                                              "profile.toml")])
    try:
        raw_bytes = file.read_bytes()
    except OSError as exc:
        raise ProfileError(file, [("(file)", f"cannot be read: {exc.strerror}")]) from None
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise ProfileError(file, [("(file)", "is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(file, [("(syntax)", f"not valid TOML: {exc}")]) from None
    try:
        data = ProfileSchema().load(raw)
    except ValidationError as exc:
        raise ProfileError(file, flatten_errors(exc.messages)) from None
    folder = file.parent.name
    if (len(folder) == 2 and folder.isalpha() and folder.isupper() and data["code"] != folder):
        raise ProfileError(file, [("code", f"is {data['code']!r} but the folder is named "
                                           f"{folder!r}; they must be the same")])
    if expected_code and data["code"] != expected_code.upper():
        raise ProfileError(file, [("code", f"is {data['code']!r} but the profile was asked for "
                                           f"as {expected_code.upper()!r}")])
    return Profile(data=data, path=file.parent, checksum=hashlib.sha256(raw_bytes).hexdigest())


def load_profile(code: str, custom_path: str | Path | None = None) -> Profile:
    """The shipped profile for ``code``, or the one at ``custom_path``."""
    if custom_path:
        return load_profile_file(custom_path, expected_code=code)
    folder = profile_path(code)
    if not (folder / PROFILE_FILE).is_file():
        raise UnknownCountry(code)
    return load_profile_file(folder, expected_code=code)
