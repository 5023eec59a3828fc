"""John's own Mockgram: the landing page, and once he is signed in, his photo feed.

The feed is what the photos API (step 6) serves to apps, seen from John's side: here he can
upload and delete his photos himself, signed in with his own session and CSRF-protected forms.
A print shop holding a photos.read token can do neither.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile as ParsedFile  # what the form parser hands over

from mockgram.api.photos import MAX_CAPTION, find_owned_photo, list_photos
from mockgram.db import SessionDep
from mockgram.deps import CurrentUserDep, SettingsDep, TemplatesDep
from mockgram.uploads import MAX_UPLOAD_BYTES, BadImage, inspect_upload, new_photo
from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.web import csrf_refused

router = APIRouter(tags=["John's pages"])


def see_other(url: str) -> RedirectResponse:
    """Redirect after POST is 303, never 307 (RFC 9700 §4.12)."""
    return RedirectResponse(url, status_code=303)


@router.get("/", include_in_schema=False)
def home(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    settings: SettingsDep,
    templates: TemplatesDep,
) -> Response:
    """The landing page for visitors; John's feed once he is signed in."""
    if user is None:
        return templates.TemplateResponse(
            request, "home.html", {"page_title": "A mock Instagram for learning OAuth"}
        )
    assert user.id is not None
    photos = list_photos(session, user.id)
    return templates.TemplateResponse(
        request,
        "feed.html",
        {"page_title": "My photos", "user": user, "photos": photos, "max_caption": MAX_CAPTION},
    )


@router.get("/me/photos/{photo_id}/image", include_in_schema=False)
def my_photo_image(photo_id: str, session: SessionDep, user: CurrentUserDep) -> Response:
    """One of the signed-in person's images; anyone else's, or none, is simply not found."""
    photo = (
        None
        if user is None or user.id is None
        else find_owned_photo(session, user.id, photo_id, with_image=True)
    )
    if photo is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(
        content=photo.image,
        media_type=photo.content_type,
        headers={"Cache-Control": "private, max-age=300"},
    )


@router.post("/me/photos", include_in_schema=False)
def upload_my_photo(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    csrf_token: Annotated[str | None, Form()] = None,
    file: Annotated[UploadFile | None, File()] = None,
    caption: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """John uploads a photo from his feed."""
    if user is None or user.id is None:
        return see_other("/login")
    if not csrf_ok(request, csrf_token):
        return csrf_refused(request)
    caption = caption.strip()
    if file is None or not isinstance(file, ParsedFile):
        push_flash(request, "Choose an image to upload.", "error")
        return see_other("/")
    if len(caption) > MAX_CAPTION:
        push_flash(request, f"Captions can be at most {MAX_CAPTION} characters.", "error")
        return see_other("/")
    try:
        info = inspect_upload(file.file.read(MAX_UPLOAD_BYTES + 1))
    except BadImage as exc:
        push_flash(request, f"That upload did not work: {exc}", "error")
        return see_other("/")
    session.add(new_photo(owner_id=user.id, caption=caption, info=info))
    session.commit()
    push_flash(request, "Photo posted.", "ok")
    return see_other("/")


@router.post("/me/photos/{photo_id}/delete", include_in_schema=False)
def delete_my_photo(
    request: Request,
    photo_id: str,
    session: SessionDep,
    user: CurrentUserDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    """John deletes one of his photos (the print shop's read-only token never could)."""
    if user is None or user.id is None:
        return see_other("/login")
    if not csrf_ok(request, csrf_token):
        return csrf_refused(request)
    photo = find_owned_photo(session, user.id, photo_id)
    if photo is None:
        push_flash(request, "That photo was already gone.", "info")
        return see_other("/")
    session.delete(photo)
    session.commit()
    push_flash(request, "Photo deleted.", "ok")
    return see_other("/")
