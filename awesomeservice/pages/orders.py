"""Print orders: choose sizes and copies for the chosen photos, ship them, see past orders."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from awesomeservice.db import SessionDep
from awesomeservice.deps import TemplatesDep, UserDep
from awesomeservice.mockgram_api import Photo
from awesomeservice.models import PrintOrder, PrintOrderItem
from awesomeservice.pages.photos import PhotoReader, PhotoReaderDep, fetch_photos
from shared.csrf import csrf_ok
from shared.flash import push_flash
from shared.forms import text, texts
from shared.web import csrf_refused, render_error

router = APIRouter()


@dataclass(frozen=True)
class Size:
    key: str
    label: str
    price_cents: int


SIZES: dict[str, Size] = {
    size.key: size
    for size in (
        Size("10x15", "10 × 15 cm", 40),
        Size("13x18", "13 × 18 cm", 90),
        Size("20x30", "20 × 30 cm", 350),
    )
}
DEFAULT_SIZE = "10x15"
MIN_COPIES, MAX_COPIES = 1, 20
MAX_PHOTOS_PER_ORDER = 50
MAX_NAME, MAX_ADDRESS = 120, 500


@dataclass
class Line:
    """One photo on the order form, with what was typed for it (kept on errors)."""

    photo: Photo
    size: str = DEFAULT_SIZE
    copies: str = "1"


def _chosen_ids(values: list[str]) -> list[int] | None:
    """The chosen photo ids, in order, without repeats; None if any is not a number."""
    ids: list[int] = []
    for value in values:
        if not value.isdigit() or len(value) > 12:
            return None
        if int(value) not in ids:
            ids.append(int(value))
    return ids


async def _mockgram_photos(reader: PhotoReader) -> dict[int, Photo] | Response:
    """The user's Mockgram photos by id, or the page that explains why they are not available."""
    fetched = await fetch_photos(reader)
    if isinstance(fetched, Response):
        return fetched
    return {photo.id: photo for photo in fetched[1]}


def _order_form(
    reader: PhotoReader,
    *,
    lines: list[Line],
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    """The order form, with what was typed and what was wrong with it."""
    return reader.templates.TemplateResponse(
        reader.request,
        "orders_new.html",
        {
            "page_title": "Your print order",
            "lines": lines,
            "sizes": list(SIZES.values()),
            "values": values,
            "errors": errors,
            "min_copies": MIN_COPIES,
            "max_copies": MAX_COPIES,
        },
        status_code=status_code,
    )


@router.post("/orders/new")
async def new_order(request: Request, reader: PhotoReaderDep) -> Response:
    """The order form for the photos ticked on the photo grid."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    ids = _chosen_ids(texts(form, "photo_id"))
    if not ids:
        push_flash(request, "Choose at least one photo to print.", "warn")
        return RedirectResponse("/photos", status_code=303)
    photos = await _mockgram_photos(reader)
    if isinstance(photos, Response):
        return photos
    lines = [Line(photos[i]) for i in ids if i in photos][:MAX_PHOTOS_PER_ORDER]
    if not lines:
        push_flash(request, "Those photos are not in your Mockgram account.", "warn")
        return RedirectResponse("/photos", status_code=303)
    values = {"shipping_name": reader.user.name}
    return _order_form(reader, lines=lines, values=values, errors={})


@router.post("/orders")
async def place_order(request: Request, reader: PhotoReaderDep) -> Response:
    """Check every field on the server, then save the order and its photos in one transaction."""
    form = await request.form()
    if not csrf_ok(request, text(form, "csrf_token")):
        return csrf_refused(request)
    ids = _chosen_ids(texts(form, "photo_id"))
    photos = await _mockgram_photos(reader)
    if isinstance(photos, Response):
        return photos

    errors: dict[str, str] = {}
    values = {
        "shipping_name": text(form, "shipping_name").strip()[: MAX_NAME * 2],
        "shipping_address": text(form, "shipping_address").strip()[: MAX_ADDRESS * 2],
    }
    lines: list[Line] = []
    if ids is None:
        errors["photos"] = "The list of photos was malformed."
        ids = []
    for photo_id in ids[:MAX_PHOTOS_PER_ORDER]:
        photo = photos.get(photo_id)
        if photo is None:
            # Only photos Mockgram lists for this token are printable (captions come from there).
            errors["photos"] = (
                f"Photo {photo_id} is not one of your Mockgram photos; it was left out."
            )
            continue
        lines.append(
            Line(photo, text(form, f"size_{photo_id}"), text(form, f"copies_{photo_id}").strip())
        )
    if not lines and "photos" not in errors:
        errors["photos"] = "Choose at least one of your Mockgram photos."
    for line in lines:
        if line.size not in SIZES:
            errors[f"size_{line.photo.id}"] = "Pick one of the listed sizes."
        if not (
            line.copies.isdigit()
            and len(line.copies) <= 3
            and MIN_COPIES <= int(line.copies) <= MAX_COPIES
        ):
            errors[f"copies_{line.photo.id}"] = f"Between {MIN_COPIES} and {MAX_COPIES} copies."
    if not values["shipping_name"]:
        errors["shipping_name"] = "Who should receive the parcel?"
    elif len(values["shipping_name"]) > MAX_NAME:
        errors["shipping_name"] = f"At most {MAX_NAME} characters."
    if not values["shipping_address"]:
        errors["shipping_address"] = "Where should we send the prints?"
    elif len(values["shipping_address"]) > MAX_ADDRESS:
        errors["shipping_address"] = f"At most {MAX_ADDRESS} characters."
    if errors:
        return _order_form(reader, lines=lines, values=values, errors=errors, status_code=400)

    assert reader.user.id is not None
    order_id = await reader.database.run(_save_order, reader.user.id, values, lines)
    push_flash(request, f"Order #{order_id} placed. Thank you!", "ok")
    return RedirectResponse(f"/orders/{order_id}", status_code=303)


def _save_order(session: Session, user_id: int, values: dict[str, str], lines: list[Line]) -> int:
    """Save the order and its photos in one transaction; the new order's number."""
    order = PrintOrder(
        user_id=user_id,
        shipping_name=values["shipping_name"],
        shipping_address=values["shipping_address"],
        total_cents=sum(SIZES[line.size].price_cents * int(line.copies) for line in lines),
    )
    session.add(order)
    session.flush()  # gives the order its id, still inside the same transaction
    assert order.id is not None
    for line in lines:
        session.add(
            PrintOrderItem(
                order_id=order.id,
                photo_id=line.photo.id,
                caption=line.photo.caption[:500],
                size=line.size,
                copies=int(line.copies),
                unit_price_cents=SIZES[line.size].price_cents,
            )
        )
    return order.id


@router.get("/orders")
def order_history(
    request: Request, session: SessionDep, templates: TemplatesDep, user: UserDep
) -> Response:
    """This user's orders, newest first."""
    orders = session.exec(
        select(PrintOrder)
        .where(PrintOrder.user_id == user.id)
        .order_by(col(PrintOrder.created_at).desc(), col(PrintOrder.id).desc())
    ).all()
    return templates.TemplateResponse(
        request, "orders_list.html", {"page_title": "Your orders", "orders": orders}
    )


@router.get("/orders/{order_id}")
def order_detail(
    order_id: int, request: Request, session: SessionDep, templates: TemplatesDep, user: UserDep
) -> Response:
    """One order — only its owner's; anyone else gets the same 404 as for no order at all."""
    order = session.get(PrintOrder, order_id) if 0 < order_id < 2**62 else None
    if order is None or order.user_id != user.id:
        return render_error(
            request,
            status_code=404,
            title="Order not found",
            message="There is no order with this number in your account.",
            back_url="/orders",
            back_label="Your orders",
        )
    items = session.exec(
        select(PrintOrderItem)
        .where(PrintOrderItem.order_id == order.id)
        .order_by(col(PrintOrderItem.id))
    ).all()
    return templates.TemplateResponse(
        request,
        "orders_detail.html",
        {"page_title": f"Order #{order.id}", "order": order, "items": items, "sizes": SIZES},
    )
