"""The gallery's view of the catalog: what the landing page lists, in teaching order."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from dangxiao.catalog import Catalog

__all__ = ["GalleryLesson", "GalleryModule", "gallery_modules", "lesson_url"]


@dataclass(frozen=True)
class GalleryLesson:
    id: str
    title: str
    minutes: int
    url: str
    available: bool  # False when the catalog names a notebook that is not in courses/


@dataclass(frozen=True)
class GalleryModule:
    id: str
    title: str
    lessons: tuple[GalleryLesson, ...]

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)


def lesson_url(base_url: str, notebook: str) -> str:
    """The address of a lesson rendered as an app by Voila."""
    return f"{base_url.rstrip('/')}/voila/render/{quote(notebook)}"


def gallery_modules(catalog: Catalog, base_url: str = "/") -> list[GalleryModule]:
    return [
        GalleryModule(
            module.id,
            module.title,
            tuple(
                GalleryLesson(
                    lesson.id,
                    lesson.title,
                    lesson.minutes,
                    lesson_url(base_url, lesson.notebook),
                    (catalog.root / lesson.notebook).is_file(),
                )
                for lesson in module.lessons
            ),
        )
        for module in catalog.modules
    ]
