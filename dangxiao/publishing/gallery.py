"""The gallery's view of the catalog: what the landing page lists, in teaching order."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from urllib.parse import quote

from dangxiao.catalog import Catalog

__all__ = ["GalleryLesson", "GalleryModule", "LessonPlace", "gallery_modules", "lesson_neighbours", "lesson_url"]


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


@dataclass(frozen=True)
class LessonPlace:
    """Where a lesson sits in the catalog: what its page's breadcrumb and previous / next links show."""

    lesson_id: str
    title: str
    module_id: str
    module_title: str
    position: int  # 1-based, within the module
    module_size: int
    gallery_url: str
    module_url: str  # the module's section of the gallery
    previous: GalleryLesson | None
    next: GalleryLesson | None

    def as_dict(self) -> dict:
        return asdict(self)


def lesson_neighbours(catalog: Catalog, notebook: str, base_url: str = "/") -> LessonPlace | None:
    """The lesson of `notebook` with its module and the previous / next lesson in catalog order (across
    modules; lessons whose notebook is missing are skipped). None if the catalog does not list it."""
    modules = gallery_modules(catalog, base_url)
    ordered = [(module, lesson) for module in modules for lesson in module.lessons]
    target = lesson_url(base_url, notebook)
    index = next((i for i, (_, lesson) in enumerate(ordered) if lesson.url == target), None)
    if index is None:
        return None
    module, lesson = ordered[index]
    before = [entry for _, entry in ordered[:index] if entry.available]
    after = [entry for _, entry in ordered[index + 1:] if entry.available]
    gallery = base_url if base_url.endswith("/") else base_url + "/"
    return LessonPlace(
        lesson_id=lesson.id,
        title=lesson.title,
        module_id=module.id,
        module_title=module.title,
        position=module.lessons.index(lesson) + 1,
        module_size=len(module.lessons),
        gallery_url=gallery,
        module_url=f"{gallery}#module-{module.id}",
        previous=before[-1] if before else None,
        next=after[0] if after else None,
    )
