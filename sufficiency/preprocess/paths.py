"""Where a run or a build may read and write, and how the product knows what it wrote.

Run TOMLs, build specs, datasets and scenario files travel between councils on shared
drives, so a path written in one of them is untrusted. Every such path is resolved (``..``
and symbolic links, in the order the file system follows them) and must then lie inside the
**project folder** (:func:`project_folder`). A folder is replaced or deleted only when it
holds the :data:`MARKER` file that the product writes into every folder it makes
(:func:`written_by_sufficiency`); docs/inputs.md states the rules.
"""

from __future__ import annotations

from pathlib import Path

MARKER = ".sufficiency-dataset"
MARKER_HEAD = "This folder was written by `sufficiency "


class UnusablePath(ValueError):
    """A path that cannot be resolved: a NUL byte in it, or a loop of symbolic links."""


def resolve(path: Path | str) -> Path:
    """``path`` made absolute with every ``..`` and symbolic link resolved.

    Raises :class:`UnusablePath` (with the reason as its message) for a NUL byte or a loop of
    symbolic links, instead of the ValueError / RuntimeError pathlib raises.
    """
    try:
        return Path(path).resolve()
    except ValueError:
        raise UnusablePath("it contains a NUL byte") from None
    except (RuntimeError, OSError):  # "Symlink loop from ..." (Python 3.11/3.12), ELOOP
        raise UnusablePath("it leads into a loop of symbolic links") from None


def project_folder(file: Path, given: Path | str | None = None) -> Path:
    """The project folder of a run TOML or build spec: the only place its paths may lead.

    ``given`` (a folder named on the command line) when there is one; otherwise the parent
    of the folder holding ``file``: ``models/example.toml`` and ``inputs/york.build.toml``
    both belong to the repository they are in. Never a file system's root: a file in a
    top-level folder (``/tmp/run.toml``) has that folder as its project. Always resolved.
    """
    if given is not None:
        return resolve(given)
    folder = resolve(file).parent
    return folder if folder.parent == Path(folder.anchor) else folder.parent


def inside(path: Path, folder: Path) -> bool:
    """Whether the resolved ``path`` is ``folder`` or below it (both resolved)."""
    return path == folder or path.is_relative_to(folder)


def marker_text(command: str) -> str:
    """The marker file's text: which command wrote the folder, and what the file is for."""
    command = " ".join(command.split())  # one line, whatever the spec's file name holds
    return (f"{MARKER_HEAD}{command}`.\n"
            "sufficiency replaces or deletes a folder only when this file is in it, so that\n"
            "a mistyped path can never remove anything it did not write. Delete this file to\n"
            "keep the folder from being replaced by the next build.\n")


def written_by_sufficiency(folder: Path) -> bool:
    """Whether ``folder`` is a real folder holding the marker file the product writes."""
    marker = folder / MARKER
    if folder.is_symlink() or not folder.is_dir() or marker.is_symlink() or not marker.is_file():
        return False
    try:
        with marker.open(encoding="utf-8") as handle:
            return handle.readline(4096).startswith(MARKER_HEAD)
    except (OSError, UnicodeDecodeError):
        return False


def first_line(path: Path) -> str:
    """The first line of a text file (at most 4,096 characters); "" if it cannot be read."""
    if path.is_symlink() or not path.is_file():
        return ""
    try:
        with path.open(encoding="utf-8") as handle:
            return handle.readline(4096)
    except (OSError, UnicodeDecodeError):
        return ""
