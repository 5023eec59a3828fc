"""Step 6 — the photos API, Mockgram's resource server (RFC 6750 §2, §3).

Every route takes the bearer token from the Authorization header (see mockgram/bearer.py),
checks it and the scope it needs, then answers for the token's owner only: another person's
photo is "not found", exactly like a photo that does not exist, so existence is never revealed.

    GET    /api/photos              photos.read    the owner's photos, newest first
    GET    /api/photos/{id}         photos.read    one photo
    GET    /api/photos/{id}/image   photos.read    its bytes
    POST   /api/photos              photos.write   upload (multipart: file, caption) → 201
    DELETE /api/photos/{id}         photos.write   delete → 204
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile as ParsedFile  # what the form parser hands over

from mockgram.bearer import PresentedToken, person_of, present_token, require_scope
from mockgram.db import DatabaseDep, SessionDep
from mockgram.deps import SettingsDep
from mockgram.failures import error_uri
from mockgram.models import Photo
from mockgram.tokens import AccessToken
from mockgram.uploads import MAX_UPLOAD_BYTES, BadImage, inspect_upload, new_photo
from shared.clock import as_utc
from shared.etags import etag_of, none_match

router = APIRouter(prefix="/api", tags=["photos API (resource server)"])

# Reads check the token's signature on the event loop and its revocation with the data.
ReadToken = Annotated[PresentedToken, Depends(present_token("photos.read"))]
WriteToken = Annotated[AccessToken, Depends(require_scope("photos.write"))]
MAX_CAPTION = 500


def photo_json(photo: Photo, issuer: str) -> dict[str, Any]:
    """The contract's photo object."""
    return {
        "id": photo.id,
        "caption": photo.caption,
        "taken_at": as_utc(photo.taken_at).isoformat(),
        "width": photo.width,
        "height": photo.height,
        "content_type": photo.content_type,
        "image_url": f"{issuer}/api/photos/{photo.id}/image",
    }


def parse_photo_id(raw: str) -> int | None:
    """A photo id from the path: a plain positive integer, else None (→ 404, never a 422)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else None


def find_owned_photo(
    session: Session, owner_id: int, raw_id: str, *, with_image: bool = False
) -> Photo | None:
    """The photo with this id if `owner_id` owns it; None for someone else's or a missing one."""
    photo_id = parse_photo_id(raw_id)
    if photo_id is None:
        return None
    statement = select(Photo).where(Photo.id == photo_id, Photo.owner_id == owner_id)
    if not with_image:
        statement = statement.options(defer(Photo.image))  # type: ignore[arg-type]
    return session.exec(statement).first()


def list_photos(session: Session, owner_id: int) -> list[Photo]:
    """The owner's photos, newest first, without their bytes."""
    statement = (
        select(Photo)
        .where(Photo.owner_id == owner_id)
        .options(defer(Photo.image))  # type: ignore[arg-type]
        .order_by(col(Photo.taken_at).desc(), col(Photo.id).desc())
    )
    return list(session.exec(statement).all())


def not_found() -> JSONResponse:
    """The same answer for someone else's photo and a missing one: nothing to learn from it."""
    # Not an RFC code — the API's own 404 — but it explains itself like every protocol error.
    return JSONResponse(
        {
            "error": "not_found",
            "error_description": "There is no such photo.",
            "error_uri": error_uri("not_found"),
        },
        status_code=404,
    )


def bad_upload(description: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": "invalid_request",
            "error_description": description,
            "error_uri": error_uri("invalid_request"),
        },
        status_code=400,
    )


def owners_photos(session: Session, token: PresentedToken) -> list[Photo]:
    """The photos of an active token's owner (its revocation checked in the same session)."""
    return list_photos(session, person_of(token.authorize(session)))


def owners_photo(
    session: Session, token: PresentedToken, raw_id: str, *, with_image: bool = False
) -> Photo | None:
    """One photo of an active token's owner, or None."""
    owner_id = person_of(token.authorize(session))
    return find_owned_photo(session, owner_id, raw_id, with_image=with_image)


@router.get("/photos", summary="List the token owner's photos (photos.read)")
async def get_photos(
    token: ReadToken, database: DatabaseDep, settings: SettingsDep
) -> JSONResponse:
    """The token owner's photos, newest first."""
    photos = await database.run(owners_photos, token)
    return JSONResponse({"photos": [photo_json(photo, settings.issuer) for photo in photos]})


@router.get("/photos/{photo_id}", summary="One photo (photos.read)")
async def get_photo(
    photo_id: str, token: ReadToken, database: DatabaseDep, settings: SettingsDep
) -> JSONResponse:
    """One photo of the token's owner."""
    photo = await database.run(owners_photo, token, photo_id)
    if photo is None:
        return not_found()
    return JSONResponse(photo_json(photo, settings.issuer))


@router.get("/photos/{photo_id}/image", summary="A photo's image bytes (photos.read)")
async def get_photo_image(
    photo_id: str, token: ReadToken, database: DatabaseDep, request: Request
) -> Response:
    """The image bytes, cacheable by the caller only (they are someone's private photo); a
    revalidation with the same ETag gets 304 and no bytes (RFC 9110 §13.1.2, §15.4.5)."""
    photo = await database.run(owners_photo, token, photo_id, with_image=True)
    if photo is None:
        return not_found()
    etag = etag_of(photo.image)
    headers = {"Cache-Control": "private, max-age=300", "Vary": "Authorization", "ETag": etag}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=photo.image, media_type=photo.content_type, headers=headers)


@router.post("/photos", status_code=201, summary="Upload a photo (photos.write)")
def post_photo(
    token: WriteToken,
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    caption: Annotated[str, Form(max_length=100_000)] = "",
) -> JSONResponse:
    """Store an uploaded image for the token's owner; 201 with the new photo."""
    if file is None or not isinstance(file, ParsedFile):
        return bad_upload("Send the image as a multipart/form-data field named file.")
    data = file.file.read(MAX_UPLOAD_BYTES + 1)  # one byte more than allowed: enough to refuse
    caption = caption.strip()
    if len(caption) > MAX_CAPTION:
        return bad_upload(f"The caption is longer than {MAX_CAPTION} characters.")
    try:
        info = inspect_upload(data)
    except BadImage as exc:
        return bad_upload(str(exc))
    photo = new_photo(owner_id=person_of(token), caption=caption, info=info)
    session.add(photo)
    session.commit()
    session.refresh(photo)
    location = f"{settings.issuer}/api/photos/{photo.id}"
    body = photo_json(photo, settings.issuer)
    return JSONResponse(body, status_code=201, headers={"Location": location})


@router.delete("/photos/{photo_id}", status_code=204, summary="Delete a photo (photos.write)")
def delete_photo(photo_id: str, token: WriteToken, session: SessionDep) -> Response:
    """Delete one of the token owner's photos."""
    photo = find_owned_photo(session, person_of(token), photo_id)
    if photo is None:
        return not_found()
    session.delete(photo)
    session.commit()
    return Response(status_code=204)
