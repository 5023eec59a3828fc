"""The demo photos, painted with Pillow when the demo data is seeded.

No network and no stock files: each demo "photo" is a small scene (a sunset over the sea, a city
at night, a cat) drawn from gradients, polygons and ellipses. The same (seed, index) always gives
the same bytes, so every fresh demo looks the same.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from mockgram.uploads import ImageInfo
from shared.settings import default_data_dir

WIDTH, HEIGHT = 640, 480
SCALE = 2  # paint at twice the size and shrink: smooth edges at grid size

Color = tuple[int, int, int]
Point = tuple[float, float]


# --- painting helpers -------------------------------------------------------------------------


def mix(a: Color, b: Color, t: float) -> Color:
    """The colour a fraction t of the way from a to b."""
    t = min(1.0, max(0.0, t))
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _at(stops: Sequence[tuple[float, Color]], t: float) -> Color:
    for (p0, c0), (p1, c1) in zip(stops, stops[1:], strict=False):
        if t <= p1:
            return mix(c0, c1, (t - p0) / (p1 - p0) if p1 > p0 else 0.0)
    return stops[-1][1]


class Pen:
    """Drawing in 640×480 coordinates on a canvas SCALE times larger."""

    def __init__(self, image: Image.Image, rng: random.Random) -> None:
        self.image = image
        self.draw = ImageDraw.Draw(image)
        self.rng = rng

    @staticmethod
    def _pts(points: Sequence[Point]) -> list[tuple[float, float]]:
        return [(x * SCALE, y * SCALE) for x, y in points]

    @staticmethod
    def _box(box: Sequence[float]) -> list[float]:
        return [v * SCALE for v in box]

    def poly(self, points: Sequence[Point], fill: object) -> None:
        self.draw.polygon(self._pts(points), fill=fill)

    def rect(self, box: Sequence[float], fill: object) -> None:
        self.draw.rectangle(self._box(box), fill=fill)

    def ellipse(
        self, box: Sequence[float], fill: object = None, outline: object = None, width: float = 0
    ) -> None:
        self.draw.ellipse(self._box(box), fill=fill, outline=outline, width=round(width * SCALE))

    def circle(self, cx: float, cy: float, r: float, fill: object) -> None:
        self.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)

    def line(self, points: Sequence[Point], fill: object, width: float = 1) -> None:
        self.draw.line(
            self._pts(points), fill=fill, width=max(1, round(width * SCALE)), joint="curve"
        )

    def arc(
        self, box: Sequence[float], start: float, end: float, fill: object, width: float
    ) -> None:
        self.draw.arc(self._box(box), start, end, fill=fill, width=round(width * SCALE))

    def gradient(self, box: Sequence[float], stops: Sequence[tuple[float, Color]]) -> None:
        """A vertical gradient through colour stops (positions 0..1) filling the box."""
        x0, y0, x1, y1 = (round(v) for v in self._box(box))
        height = max(1, y1 - y0)
        column = Image.new("RGB", (1, height))
        column.putdata([_at(stops, i / max(1, height - 1)) for i in range(height)])
        self.image.paste(column.resize((x1 - x0, height)), (x0, y0))

    def soft(
        self, color: Color, paint: Callable[[Pen], None], opacity: float = 1.0, blur: float = 0
    ) -> None:
        """Paint shapes into a mask (fill 255), blur it, and lay `color` through it."""
        quarter = 4 if blur else 1  # blurred masks are computed small: fast and just as soft
        size = (self.image.width // quarter, self.image.height // quarter)
        mask = Image.new("L", size, 0)
        sub = Pen(mask, self.rng)
        if quarter != 1:
            sub.draw = _ScaledDraw(mask, 1 / quarter)  # type: ignore[assignment]
        paint(sub)
        if blur:
            mask = mask.filter(ImageFilter.GaussianBlur(blur * SCALE / quarter))
            mask = mask.resize(self.image.size, Image.Resampling.BILINEAR)
        if opacity < 1:
            mask = mask.point(lambda v: round(v * opacity))
        self.image.paste(color, (0, 0, *self.image.size), mask)

    def glow(self, cx: float, cy: float, r: float, color: Color, opacity: float = 0.8) -> None:
        """A soft halo of light around (cx, cy)."""
        self.soft(color, lambda p: p.circle(cx, cy, r, 255), opacity, blur=r * 0.6)

    def stars(self, count: int, top: float, bottom: float, color: Color = (255, 255, 240)) -> None:
        for _ in range(count):
            x, y = self.rng.uniform(0, WIDTH), self.rng.uniform(top, bottom)
            r = self.rng.choice((0.6, 0.8, 1.0, 1.4))
            self.circle(x, y, r, mix((120, 130, 170), color, self.rng.uniform(0.4, 1)))

    def ridge(
        self, base: float, height: float, roughness: float, color: Color, steps: int = 7
    ) -> list[Point]:
        """A mountain ridge by midpoint displacement, filled down to the bottom edge."""
        heights = [self.rng.uniform(0.2, 1.0), self.rng.uniform(0.2, 1.0)]
        spread = roughness
        for _ in range(steps):
            nxt: list[float] = []
            for a, b in zip(heights, heights[1:], strict=False):
                nxt += [a, (a + b) / 2 + self.rng.uniform(-spread, spread)]
            heights = nxt + [heights[-1]]
            spread *= 0.55
        n = len(heights) - 1
        points = [(WIDTH * i / n, base - height * max(0.0, h)) for i, h in enumerate(heights)]
        self.poly([*points, (WIDTH, HEIGHT), (0, HEIGHT)], color)
        return points


class _ScaledDraw:
    """An ImageDraw whose coordinates (already ×SCALE) are shrunk again for a small mask."""

    def __init__(self, image: Image.Image, factor: float) -> None:
        self._draw = ImageDraw.Draw(image)
        self._f = factor

    def _p(self, points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(x * self._f, y * self._f) for x, y in points]

    def polygon(self, points: Sequence[tuple[float, float]], fill: object) -> None:
        self._draw.polygon(self._p(points), fill=fill)

    def ellipse(self, box: Sequence[float], **kw: object) -> None:
        self._draw.ellipse([v * self._f for v in box], **kw)  # type: ignore[arg-type]

    def rectangle(self, box: Sequence[float], **kw: object) -> None:
        self._draw.rectangle([v * self._f for v in box], **kw)  # type: ignore[arg-type]

    def line(
        self, points: Sequence[tuple[float, float]], fill: object, width: int, **kw: object
    ) -> None:
        self._draw.line(self._p(points), fill=fill, width=max(1, round(width * self._f)), **kw)  # type: ignore[arg-type]

    def arc(self, box: Sequence[float], start: float, end: float, fill: object, width: int) -> None:
        self._draw.arc(
            [v * self._f for v in box], start, end, fill=fill, width=max(1, round(width * self._f))
        )


def oval(cx: float, cy: float, rx: float, ry: float, angle: float, n: int = 24) -> list[Point]:
    """A rotated ellipse as a polygon (petals, leaves, fronds)."""
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for i in range(n):
        t = 2 * math.pi * i / n
        x, y = rx * math.cos(t), ry * math.sin(t)
        pts.append((cx + x * ca - y * sa, cy + x * sa + y * ca))
    return pts


# --- the scenes ---------------------------------------------------------------------------------


def sunset_sea(p: Pen) -> None:
    warm = p.rng.choice([(255, 170, 80), (255, 140, 90), (255, 190, 110)])
    horizon = 300
    p.gradient(
        (0, 0, WIDTH, horizon),
        [(0, (58, 42, 110)), (0.45, (196, 78, 120)), (0.8, warm), (1, (255, 222, 150))],
    )
    sx = p.rng.uniform(200, 440)
    p.glow(sx, horizon - 10, 110, (255, 200, 120), 0.7)
    p.circle(sx, horizon, 46, (255, 236, 170))
    p.gradient(
        (0, horizon, WIDTH, HEIGHT), [(0, (150, 70, 100)), (0.4, (70, 40, 90)), (1, (25, 20, 55))]
    )
    for i in range(26):
        y = horizon + 6 + i * 7
        half = 44 * (1 - i / 30) + p.rng.uniform(-8, 8)
        p.line([(sx - half, y), (sx + half, y)], mix((255, 226, 150), (190, 100, 110), i / 26), 2.2)
    for _ in range(5):
        bx, by = p.rng.uniform(60, 580), p.rng.uniform(60, 180)
        p.line([(bx - 10, by - 5), (bx, by), (bx + 10, by - 5)], (50, 30, 60), 2)
    p.ellipse((-60, 410, 260, 520), fill=(20, 14, 35))


def mountains(p: Pen) -> None:
    p.gradient(
        (0, 0, WIDTH, HEIGHT), [(0, (110, 170, 230)), (0.6, (200, 225, 245)), (1, (235, 240, 245))]
    )
    p.glow(500, 90, 50, (255, 250, 220), 0.9)
    p.circle(500, 90, 24, (255, 252, 235))
    far = p.ridge(270, 210, 0.9, (120, 140, 175), steps=6)
    snowline = min(y for _, y in far) + 55
    # Snow caps: from the ridge down a little, only where the ridge rises above the snowline.
    lower = [
        (x, min(y + p.rng.uniform(18, 34), snowline)) if y < snowline else (x, y) for x, y in far
    ]
    p.poly(far + lower[::-1], (250, 252, 255))
    p.soft((200, 215, 235), lambda q: q.rect((0, snowline, WIDTH, 282), 255), 0.3, blur=12)
    p.ridge(345, 90, 0.45, (70, 110, 120), steps=6)
    p.ridge(400, 90, 0.4, (40, 80, 70), steps=6)
    p.gradient((0, 420, WIDTH, HEIGHT), [(0, (60, 110, 140)), (1, (30, 60, 90))])
    for _ in range(12):
        x, y = p.rng.uniform(0, WIDTH), p.rng.uniform(428, 472)
        p.line([(x, y), (x + p.rng.uniform(20, 60), y)], (120, 170, 200), 1.5)


def city_night(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, HEIGHT), [(0, (8, 12, 40)), (0.6, (35, 30, 90)), (1, (90, 50, 110))])
    p.stars(90, 0, 220)
    p.glow(110, 80, 40, (230, 230, 255), 0.5)
    p.circle(110, 80, 22, (245, 245, 230))
    if p.rng.random() < 0.5:
        p.circle(100, 74, 20, (28, 28, 70))  # a crescent
    ground = 420
    x = -10.0
    layers = [((30, 30, 65), 0.6), ((18, 18, 40), 1.0)]
    for shade, scale in layers:
        x = -10.0
        while x < WIDTH:
            w = p.rng.uniform(40, 80)
            h = p.rng.uniform(90, 300) * scale + 40
            top = ground - h
            p.rect((x, top, x + w, ground), shade)
            if p.rng.random() < 0.2:
                p.poly([(x + w * 0.3, top), (x + w * 0.5, top - 40), (x + w * 0.7, top)], shade)
            if scale == 1.0:
                for wy in range(int(top) + 10, ground - 12, 14):
                    for wx in range(int(x) + 6, int(x + w) - 8, 11):
                        if p.rng.random() < 0.45:
                            lit = p.rng.choice([(255, 214, 120), (255, 236, 170), (160, 200, 255)])
                            p.rect((wx, wy, wx + 5, wy + 7), lit)
            x += w + p.rng.uniform(2, 10)
    p.gradient((0, ground, WIDTH, HEIGHT), [(0, (30, 25, 60)), (1, (10, 10, 25))])
    for _ in range(40):
        rx, ry = p.rng.uniform(0, WIDTH), p.rng.uniform(ground + 6, HEIGHT)
        p.line(
            [(rx, ry), (rx + p.rng.uniform(8, 30), ry)],
            p.rng.choice([(200, 160, 90), (120, 140, 200)]),
            1.5,
        )


def forest(p: Pen) -> None:
    p.gradient(
        (0, 0, WIDTH, HEIGHT), [(0, (190, 215, 200)), (0.7, (225, 235, 220)), (1, (120, 150, 110))]
    )
    p.glow(420, 110, 90, (255, 250, 220), 0.7)
    for depth, shade in enumerate([(150, 180, 160), (95, 135, 110), (55, 95, 70), (25, 60, 40)]):
        base = 300 + depth * 50
        count = 9 + depth * 3
        for _ in range(count):
            x = p.rng.uniform(-20, WIDTH + 20)
            h = p.rng.uniform(150, 240) * (0.7 + depth * 0.15)
            w = h * 0.32
            p.rect((x - 3 - depth, base - 10, x + 3 + depth, base + 30), (60, 45, 35))
            for tier in range(4):
                ty = base - h + tier * h * 0.22
                tw = w * (0.45 + tier * 0.22)
                p.poly([(x, ty), (x + tw, ty + h * 0.35), (x - tw, ty + h * 0.35)], shade)
        p.soft(
            (230, 238, 228), lambda q, b=base: q.rect((0, b - 30, WIDTH, b + 20), 255), 0.3, blur=14
        )
    p.poly([(280, HEIGHT), (360, HEIGHT), (330, 420), (310, 420)], (150, 120, 85))


def beach(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, 250), [(0, (60, 150, 225)), (1, (170, 220, 245))])
    for _ in range(3):
        cx, cy = p.rng.uniform(60, 580), p.rng.uniform(40, 140)
        for dx, dy, r in ((0, 0, 22), (22, 6, 18), (-22, 6, 16), (10, -10, 18)):
            p.circle(cx + dx, cy + dy, r, (250, 252, 255))
    p.gradient((0, 250, WIDTH, 330), [(0, (30, 120, 170)), (1, (60, 200, 200))])
    p.gradient((0, 330, WIDTH, HEIGHT), [(0, (240, 220, 170)), (1, (225, 190, 135))])
    wave = [(x, 330 + 6 * math.sin(x / 30)) for x in range(0, WIDTH + 10, 10)]
    p.line(wave, (255, 255, 255), 5)
    # a palm tree
    trunk = [(90 + 30 * math.sin(t / 10 * 1.2) * (t / 10), 420 - t * 24) for t in range(11)]
    for (x0, y0), (x1, y1) in zip(trunk, trunk[1:], strict=False):
        p.line([(x0, y0), (x1, y1)], (120, 85, 50), 16 - (y0 < 250) * 4)
    top = trunk[-1]
    for k in range(7):
        angle = -math.pi + k * math.pi / 6 + 0.2
        p.poly(
            oval(
                top[0] + 55 * math.cos(angle),
                top[1] + 25 * math.sin(angle) + 15,
                60,
                11,
                angle + 0.25,
            ),
            (40, 130, 60),
        )
    # an umbrella and a towel
    p.line([(450, 300), (470, 420)], (90, 70, 60), 4)
    p.poly([(380, 320), (450, 270), (530, 300)], (230, 70, 70))
    p.poly([(415, 300), (450, 270), (490, 288)], (250, 250, 245))
    p.poly([(380, 440), (520, 430), (540, 470), (395, 478)], (60, 120, 210))


def cat(p: Pen) -> None:
    fur = p.rng.choice([(226, 140, 60), (130, 130, 140), (60, 55, 60)])
    dark = mix(fur, (0, 0, 0), 0.35)
    p.gradient((0, 0, WIDTH, HEIGHT), [(0, (245, 226, 200)), (1, (220, 190, 160))])
    p.rect((420, 40, 600, 220), (200, 225, 240))
    p.rect((505, 40, 515, 220), (240, 235, 225))
    p.rect((420, 125, 600, 135), (240, 235, 225))
    p.rect((0, 380, WIDTH, HEIGHT), (160, 110, 80))
    p.ellipse((100, 300, 500, 470), fill=(190, 70, 80))  # cushion
    cx, cy = 300, 240
    p.ellipse((170, 270, 430, 430), fill=fur)  # body
    p.line([(420, 400), (480, 380), (500, 320), (470, 290)], fur, 26)  # tail
    p.poly([(cx - 95, cy - 40), (cx - 80, cy - 150), (cx - 20, cy - 80)], fur)
    p.poly([(cx + 95, cy - 40), (cx + 80, cy - 150), (cx + 20, cy - 80)], fur)
    p.poly([(cx - 82, cy - 55), (cx - 76, cy - 125), (cx - 38, cy - 82)], (240, 170, 170))
    p.poly([(cx + 82, cy - 55), (cx + 76, cy - 125), (cx + 38, cy - 82)], (240, 170, 170))
    p.ellipse((cx - 110, cy - 100, cx + 110, cy + 80), fill=fur)
    if fur[0] > 200:  # tabby stripes
        for dx in (-30, 0, 30):
            p.poly([(cx + dx - 8, cy - 98), (cx + dx + 8, cy - 98), (cx + dx, cy - 55)], dark)
    p.ellipse((cx - 45, cy + 5, cx + 45, cy + 70), fill=mix(fur, (255, 255, 255), 0.55))
    for ex in (cx - 45, cx + 45):
        p.ellipse((ex - 22, cy - 35, ex + 22, cy + 5), fill=(120, 190, 80))
        p.ellipse((ex - 5, cy - 33, ex + 5, cy + 3), fill=(20, 20, 20))
        p.circle(ex + 7, cy - 24, 4, (255, 255, 255))
    p.poly([(cx - 12, cy + 15), (cx + 12, cy + 15), (cx, cy + 28)], (230, 120, 130))
    p.line([(cx, cy + 28), (cx - 12, cy + 40)], (70, 40, 40), 2.5)
    p.line([(cx, cy + 28), (cx + 12, cy + 40)], (70, 40, 40), 2.5)
    for side in (-1, 1):
        for k in (-1, 0, 1):
            p.line(
                [(cx + side * 30, cy + 30 + k * 7), (cx + side * 120, cy + 22 + k * 16)],
                (250, 250, 250),
                1.8,
            )


def coffee(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, 260), [(0, (235, 225, 210)), (1, (205, 190, 170))])
    p.gradient((0, 260, WIDTH, HEIGHT), [(0, (150, 100, 65)), (1, (110, 70, 45))])
    for y in (300, 350, 410):
        p.line([(0, y), (WIDTH, y + 4)], (125, 82, 52), 2)
    cx = 320
    p.ellipse((cx - 160, 360, cx + 160, 440), fill=(238, 238, 235))
    p.ellipse((cx - 120, 372, cx + 120, 425), fill=(225, 225, 222))
    p.arc((cx + 70, 230, cx + 160, 330), -80, 80, (245, 245, 242), 20)
    p.poly([(cx - 110, 220), (cx + 110, 220), (cx + 85, 390), (cx - 85, 390)], (245, 245, 242))
    p.ellipse((cx - 85, 372, cx + 85, 405), fill=(245, 245, 242))
    p.soft(
        (0, 0, 0),
        lambda q: q.poly([(cx + 40, 230), (cx + 110, 220), (cx + 85, 390), (cx + 40, 395)], 255),
        0.08,
    )
    p.ellipse((cx - 110, 200, cx + 110, 240), fill=(230, 230, 228))
    p.ellipse((cx - 100, 204, cx + 100, 236), fill=(140, 85, 45))
    # latte-art heart
    p.circle(cx - 14, 216, 14, (240, 220, 190))
    p.circle(cx + 14, 216, 14, (240, 220, 190))
    p.poly([(cx - 27, 220), (cx + 27, 220), (cx, 234)], (240, 220, 190))
    for k in (-40, 0, 40):
        p.soft(
            (255, 255, 255),
            lambda q, k=k: q.line(
                [(cx + k + 12 * math.sin(t / 3), 190 - t * 11) for t in range(12)], 255, 7
            ),
            0.5,
            blur=4,
        )
    if p.rng.random() < 0.7:
        p.ellipse((60, 400, 170, 450), fill=(200, 140, 70))  # a croissant-ish pastry
        p.arc((70, 395, 160, 455), 200, 340, (160, 100, 50), 4)


def flowers(p: Pen) -> None:
    p.gradient(
        (0, 0, WIDTH, HEIGHT), [(0, (200, 230, 250)), (0.55, (180, 215, 160)), (1, (70, 130, 60))]
    )
    for _ in range(18):
        x, y, r = p.rng.uniform(0, WIDTH), p.rng.uniform(0, 300), p.rng.uniform(10, 30)
        p.soft((255, 255, 235), lambda q, x=x, y=y, r=r: q.circle(x, y, r, 255), 0.35, blur=3)
    palette = [(235, 80, 120), (250, 200, 60), (240, 120, 60), (170, 90, 200), (255, 255, 255)]
    blooms = sorted(
        [(p.rng.uniform(60, 580), p.rng.uniform(110, 330)) for _ in range(7)], key=lambda b: b[1]
    )
    for bx, by in blooms:
        p.line([(bx, by), (bx + p.rng.uniform(-30, 30), HEIGHT)], (60, 120, 50), 6)
        p.poly(oval(bx + 25, by + 90, 30, 10, -0.6), (70, 140, 60))
        colour = p.rng.choice(palette)
        r = p.rng.uniform(36, 54)
        n = p.rng.choice((5, 6, 8))
        for k in range(n):
            a = 2 * math.pi * k / n + p.rng.uniform(0, 0.2)
            p.poly(
                oval(bx + r * 0.55 * math.cos(a), by + r * 0.55 * math.sin(a), r * 0.6, r * 0.3, a),
                colour,
            )
        p.circle(bx, by, r * 0.25, (250, 190, 40) if colour != (250, 200, 60) else (140, 80, 30))


def bicycle(p: Pen) -> None:
    wall = p.rng.choice([(120, 200, 200), (240, 200, 120), (230, 150, 150)])
    p.gradient((0, 0, WIDTH, 380), [(0, wall), (1, mix(wall, (255, 255, 255), 0.25))])
    p.rect((0, 380, WIDTH, HEIGHT), (190, 180, 170))
    for x in range(0, WIDTH, 80):
        p.line([(x, 380), (x - 40, HEIGHT)], (170, 160, 150), 2)
    p.rect((420, 80, 580, 300), mix(wall, (60, 60, 60), 0.25))  # a door
    p.rect((430, 90, 570, 290), mix(wall, (255, 255, 255), 0.1))
    frame = p.rng.choice([(210, 50, 50), (30, 90, 160), (30, 130, 90)])
    rear, front, r = (170, 380), (430, 380), 68
    for wx, wy in (rear, front):
        p.ellipse((wx - r, wy - r, wx + r, wy + r), outline=(30, 30, 30), width=7)
        for k in range(12):
            a = math.pi * k / 6
            p.line([(wx, wy), (wx + r * math.cos(a), wy + r * math.sin(a))], (170, 170, 170), 1)
        p.circle(wx, wy, 6, (80, 80, 80))
    crank, seat_top, head = (280, 385), (250, 265), (400, 268)
    for a, b in (
        (rear, crank),
        (crank, seat_top),
        (seat_top, rear),
        (crank, head),
        (seat_top, head),
        (head, front),
    ):
        p.line([a, b], frame, 8)
    p.line([seat_top, (244, 242)], (50, 50, 50), 5)
    p.poly([(222, 236), (268, 236), (262, 246), (226, 246)], (40, 30, 30))
    p.line([head, (392, 235), (420, 228)], (50, 50, 50), 5)
    p.circle(crank[0], crank[1], 14, (60, 60, 60))
    p.rect((405, 210, 470, 245), (170, 120, 60))  # a basket
    for k in range(4):
        p.circle(
            418 + k * 16, 205, 9, p.rng.choice([(240, 90, 120), (250, 210, 70), (255, 255, 255)])
        )


def lighthouse(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, 330), [(0, (25, 30, 70)), (0.6, (90, 80, 140)), (1, (235, 150, 120))])
    p.stars(40, 0, 150)
    p.gradient((0, 330, WIDTH, HEIGHT), [(0, (60, 70, 120)), (1, (20, 25, 55))])
    lx, top, base = 420, 120, 360
    p.soft(
        (255, 240, 180),
        lambda q: q.poly([(lx, top + 20), (-40, 60), (-40, 190)], 255),
        0.35,
        blur=6,
    )
    p.soft(
        (255, 240, 180),
        lambda q: q.poly([(lx, top + 20), (WIDTH + 40, 80), (WIDTH + 40, 140)], 255),
        0.25,
        blur=6,
    )
    p.poly(
        [(300, HEIGHT), (330, 380), (380, 350), (470, 345), (540, 370), (600, HEIGHT)], (35, 35, 45)
    )
    p.poly([(0, HEIGHT), (0, 430), (80, 410), (150, 440), (200, HEIGHT)], (30, 30, 40))

    def half_width(y: float) -> float:
        return 22 + (y - top) / (base - top) * 16

    for k in range(6):
        y0 = top + 30 + k * (base - top - 30) / 6
        y1 = top + 30 + (k + 1) * (base - top - 30) / 6
        colour = (200, 40, 50) if k % 2 == 0 else (245, 245, 240)
        p.poly(
            [
                (lx - half_width(y0), y0),
                (lx + half_width(y0), y0),
                (lx + half_width(y1), y1),
                (lx - half_width(y1), y1),
            ],
            colour,
        )
    p.rect((lx - 30, top + 24, lx + 30, top + 32), (40, 40, 45))
    p.glow(lx, top + 10, 36, (255, 240, 170), 0.9)
    p.rect((lx - 16, top - 4, lx + 16, top + 24), (255, 245, 190))
    p.poly([(lx - 22, top - 4), (lx + 22, top - 4), (lx, top - 28)], (180, 30, 40))


def aurora(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, HEIGHT), [(0, (4, 8, 25)), (0.7, (10, 30, 50)), (1, (15, 40, 55))])
    p.stars(120, 0, 330)
    green = p.rng.choice([(80, 255, 160), (110, 255, 140)])

    def curtains(q: Pen) -> None:
        phase = q.rng.uniform(0, 6)
        for x in range(0, WIDTH, 3):
            y = 150 + 60 * math.sin(x / 90 + phase) + 25 * math.sin(x / 31)
            q.line([(x, y), (x, y - 90 - 40 * math.sin(x / 50))], 255, 3)

    p.soft(green, curtains, 0.75, blur=6)
    p.soft((180, 90, 220), lambda q: q.rect((0, 20, WIDTH, 90), 255), 0.2, blur=30)
    p.ridge(380, 90, 0.35, (225, 235, 245), steps=6)
    p.gradient((0, 400, WIDTH, HEIGHT), [(0, (20, 50, 60)), (1, (8, 15, 30))])
    p.soft(green, lambda q: q.rect((0, 405, WIDTH, 450), 255), 0.15, blur=12)
    for _ in range(16):
        x, h = p.rng.uniform(0, WIDTH), p.rng.uniform(40, 90)
        p.poly([(x, 400 - h), (x + h * 0.22, 402), (x - h * 0.22, 402)], (8, 18, 25))


def cake(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, HEIGHT), [(0, (255, 228, 235)), (1, (250, 205, 215))])
    colours = [(240, 90, 120), (90, 180, 230), (250, 200, 70), (120, 200, 120)]
    p.line([(0, 40), (160, 90), (320, 50), (480, 90), (WIDTH, 40)], (180, 150, 150), 2)
    for k in range(16):
        x = 20 + k * 40
        y = 40 + 25 * abs(math.sin(k * math.pi / 4)) + 10
        p.poly([(x - 12, y - 4), (x + 12, y - 4), (x, y + 20)], colours[k % 4])
    for _ in range(40):
        p.circle(p.rng.uniform(0, WIDTH), p.rng.uniform(110, 470), 3, p.rng.choice(colours))
    p.rect((0, 400, WIDTH, HEIGHT), (235, 235, 240))
    cx = 320
    p.ellipse((cx - 190, 380, cx + 190, 440), fill=(250, 250, 252))
    sponge, icing = (240, 200, 150), p.rng.choice([(255, 170, 200), (250, 245, 240), (140, 90, 60)])
    p.rect((cx - 140, 250, cx + 140, 405), sponge)
    p.ellipse((cx - 140, 380, cx + 140, 430), fill=sponge)
    p.rect((cx - 140, 320, cx + 140, 332), (200, 60, 80))  # jam
    p.rect((cx - 140, 250, cx + 140, 280), icing)
    for k in range(9):
        x = cx - 130 + k * 32
        p.ellipse((x - 10, 260, x + 10, 300 + (k % 3) * 12), fill=icing)
    p.ellipse((cx - 140, 225, cx + 140, 275), fill=icing)
    for k in range(5):
        x = cx - 80 + k * 40
        p.rect((x - 5, 185, x + 5, 248), colours[k % 4])
        p.glow(x, 168, 16, (255, 210, 120), 0.7)
        p.poly(oval(x, 170, 5, 12, 0), (255, 200, 80))
        p.poly(oval(x, 173, 2.5, 6, 0), (255, 250, 220))


def balloons(p: Pen) -> None:
    p.gradient(
        (0, 0, WIDTH, HEIGHT), [(0, (120, 180, 235)), (0.7, (250, 210, 180)), (1, (250, 190, 150))]
    )
    p.ridge(420, 80, 0.3, (140, 170, 110), steps=6)
    p.ridge(460, 50, 0.3, (90, 130, 70), steps=6)
    stripes = [(230, 60, 60), (250, 200, 50), (60, 120, 220), (240, 240, 240), (70, 170, 90)]
    slots = p.rng.sample(range(5), 5)
    for k in range(5):
        r = p.rng.uniform(22, 62)
        x = 70 + slots[k] * 125 + p.rng.uniform(-20, 20)
        y = p.rng.uniform(80, 330 - r)
        c1, c2 = p.rng.sample(stripes, 2)
        p.ellipse((x - r, y - r * 1.15, x + r, y + r * 1.0), fill=c1)
        for s in (-0.55, 0.0, 0.55):
            p.poly(oval(x + s * r, y - r * 0.07, r * 0.18, r * 1.05, 0), c2)
        p.poly(
            [
                (x - r * 0.75, y + r * 0.65),
                (x + r * 0.75, y + r * 0.65),
                (x + r * 0.22, y + r * 1.3),
                (x - r * 0.22, y + r * 1.3),
            ],
            c1,
        )
        p.rect((x - r * 0.16, y + r * 1.42, x + r * 0.16, y + r * 1.65), (130, 85, 50))


def dunes(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, 300), [(0, (250, 170, 90)), (1, (255, 225, 160))])
    p.glow(180, 160, 70, (255, 245, 200), 0.8)
    p.circle(180, 160, 38, (255, 250, 225))
    for k, colour in enumerate([(225, 150, 90), (210, 125, 70), (190, 105, 55), (160, 85, 45)]):
        base = 260 + k * 55
        pts = [
            (x, base - 40 * math.sin(x / (90 + 30 * k) + k * 1.7)) for x in range(0, WIDTH + 20, 20)
        ]
        p.poly([*pts, (WIDTH, HEIGHT), (0, HEIGHT)], colour)
        p.poly(
            [*pts[: len(pts) // 2], (pts[len(pts) // 2][0], HEIGHT), (0, HEIGHT)],
            mix(colour, (90, 40, 20), 0.15),
        )
    cx = p.rng.uniform(420, 560)
    p.rect((cx - 9, 300, cx + 9, 410), (60, 120, 70))
    p.line([(cx - 9, 350), (cx - 35, 350), (cx - 35, 320)], (60, 120, 70), 12)
    p.line([(cx + 9, 370), (cx + 32, 370), (cx + 32, 335)], (60, 120, 70), 12)


def lake_boat(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, 260), [(0, (150, 200, 240)), (1, (230, 240, 245))])
    ridge = p.ridge(260, 120, 0.5, (80, 120, 150), steps=6)
    p.gradient((0, 260, WIDTH, HEIGHT), [(0, (140, 180, 200)), (1, (50, 100, 130))])
    p.poly(
        [(x, 260 + (260 - y) * 0.6) for x, y in ridge] + [(WIDTH, 260), (0, 260)], (110, 150, 175)
    )
    for _ in range(14):
        x, y = p.rng.uniform(0, WIDTH), p.rng.uniform(300, 470)
        p.line([(x, y), (x + p.rng.uniform(30, 90), y)], (200, 225, 235), 1.5)
    bx = p.rng.uniform(200, 420)
    p.poly([(bx - 80, 370), (bx + 80, 370), (bx + 55, 395), (bx - 55, 395)], (170, 60, 40))
    p.line([(bx, 370), (bx, 250)], (80, 60, 40), 4)
    p.poly([(bx + 4, 255), (bx + 4, 365), (bx + 70, 365)], (250, 250, 245))
    p.poly([(bx - 4, 270), (bx - 4, 365), (bx - 55, 365)], (230, 230, 225))
    p.soft(
        (60, 50, 40),
        lambda q: q.poly([(bx - 55, 397), (bx + 55, 397), (bx + 40, 420), (bx - 40, 420)], 255),
        0.25,
        blur=4,
    )


def snowy_cabin(p: Pen) -> None:
    p.gradient(
        (0, 0, WIDTH, HEIGHT), [(0, (20, 30, 70)), (0.65, (70, 80, 130)), (1, (120, 130, 170))]
    )
    p.stars(60, 0, 200)
    p.circle(520, 80, 26, (245, 245, 230))
    p.ridge(330, 100, 0.3, (200, 210, 235), steps=6)
    for _ in range(10):
        x, h = (
            p.rng.choice([p.rng.uniform(0, 200), p.rng.uniform(440, WIDTH)]),
            p.rng.uniform(80, 160),
        )
        for tier in range(3):
            ty = 360 - h + tier * h * 0.28
            p.poly(
                [
                    (x, ty),
                    (x + h * (0.2 + tier * 0.06), ty + h * 0.38),
                    (x - h * (0.2 + tier * 0.06), ty + h * 0.38),
                ],
                (25, 55, 60),
            )
            p.poly(
                [(x, ty), (x + h * 0.08, ty + h * 0.12), (x - h * 0.08, ty + h * 0.12)],
                (235, 240, 250),
            )
    p.rect((0, 360, WIDTH, HEIGHT), (225, 232, 248))
    cx = 320
    p.rect((cx - 90, 270, cx + 90, 370), (110, 65, 40))
    for y in range(280, 370, 14):
        p.line([(cx - 90, y), (cx + 90, y)], (85, 50, 30), 2)
    p.poly([(cx - 115, 275), (cx, 190), (cx + 115, 275)], (240, 245, 255))
    p.rect((cx + 45, 190, cx + 65, 240), (90, 60, 50))
    for wx in (cx - 60, cx + 25):
        p.glow(wx + 17, 310, 30, (255, 190, 90), 0.6)
        p.rect((wx, 295, wx + 35, 325), (255, 210, 110))
        p.line([(wx + 17, 295), (wx + 17, 325)], (85, 50, 30), 2)
    p.soft(
        (220, 220, 230),
        lambda q: q.line([(cx + 55 + 10 * math.sin(t), 185 - t * 12) for t in range(8)], 255, 8),
        0.5,
        blur=5,
    )
    for _ in range(120):
        p.circle(
            p.rng.uniform(0, WIDTH),
            p.rng.uniform(0, HEIGHT),
            p.rng.uniform(1, 2.5),
            (255, 255, 255),
        )


def pizza(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, HEIGHT), [(0, (60, 60, 70)), (1, (35, 35, 45))])
    p.rect((40, 60, 600, 470), (185, 140, 90))
    for y in range(70, 470, 40):
        p.line([(40, y), (600, y)], (165, 120, 75), 2)
    cx, cy, r = 320, 265, 180
    p.circle(cx, cy, r, (215, 150, 70))
    p.circle(cx, cy, r - 18, (200, 55, 40))

    def cheese(q: Pen) -> None:
        for _ in range(16):
            q.circle(
                cx + q.rng.uniform(-120, 120),
                cy + q.rng.uniform(-120, 120),
                q.rng.uniform(20, 40),
                255,
            )

    p.soft((255, 230, 150), cheese, 0.8, blur=3)
    for _ in range(9):
        a, d = p.rng.uniform(0, 2 * math.pi), p.rng.uniform(20, r - 45)
        p.circle(cx + d * math.cos(a), cy + d * math.sin(a), 18, (170, 40, 40))
    for _ in range(6):
        a, d = p.rng.uniform(0, 2 * math.pi), p.rng.uniform(20, r - 50)
        p.poly(oval(cx + d * math.cos(a), cy + d * math.sin(a), 16, 8, a), (50, 130, 50))
    for k in range(4):
        a = k * math.pi / 4
        p.line(
            [
                (cx - r * math.cos(a), cy - r * math.sin(a)),
                (cx + r * math.cos(a), cy + r * math.sin(a)),
            ],
            (160, 100, 50),
            2,
        )


def tulips(p: Pen) -> None:
    p.gradient((0, 0, WIDTH, 230), [(0, (110, 170, 230)), (1, (215, 235, 250))])
    p.ridge(230, 20, 0.2, (120, 160, 100), steps=5)
    rows = [(230, 60, 80), (250, 200, 60), (240, 120, 170), (240, 110, 50), (245, 245, 245)]
    horizon, vx = 235, 320
    n = 11
    for k in range(n):
        x0, x1 = -200 + k * (1040 / n), -200 + (k + 1) * (1040 / n)
        colour = rows[k % len(rows)] if k % 2 == 0 else (70, 130, 60)
        p.poly(
            [
                (vx + (x0 - vx) * 0.02, horizon),
                (vx + (x1 - vx) * 0.02, horizon),
                (x1, HEIGHT),
                (x0, HEIGHT),
            ],
            colour,
        )
    wx = p.rng.choice((120, 500))
    p.poly([(wx - 22, 230), (wx + 22, 230), (wx + 14, 140), (wx - 14, 140)], (150, 90, 60))
    p.poly([(wx - 18, 140), (wx + 18, 140), (wx, 118)], (90, 50, 40))
    for k in range(4):
        a = k * math.pi / 2 + 0.4
        p.line([(wx, 135), (wx + 75 * math.cos(a), 135 + 75 * math.sin(a))], (245, 240, 230), 9)


SCENES: dict[str, Callable[[Pen], None]] = {
    "sunset-sea": sunset_sea,
    "mountains": mountains,
    "city-night": city_night,
    "forest": forest,
    "beach": beach,
    "cat": cat,
    "coffee": coffee,
    "flowers": flowers,
    "bicycle": bicycle,
    "lighthouse": lighthouse,
    "aurora": aurora,
    "cake": cake,
    "balloons": balloons,
    "dunes": dunes,
    "lake-boat": lake_boat,
    "snowy-cabin": snowy_cabin,
    "pizza": pizza,
    "tulips": tulips,
}


# Painting is pure and slow (about 0.1 s a photo, 24 photos): a process that seeds many
# databases (a test run) paints each once, and painted photos are kept on disk between starts,
# so a fresh demo database is seeded without painting again. The folder's name carries a hash of
# this file, so a changed painter never serves an old picture.
PAINTED = (
    default_data_dir()
    / "painted-photos"
    / hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
)


@functools.lru_cache(maxsize=64)
def make_photo(seed: str, index: int, scene: str | None = None) -> ImageInfo:
    """One demo photo, a 640×480 JPEG: painted once, then kept (see PAINTED)."""
    name = scene or list(SCENES)[index % len(SCENES)]
    kept = PAINTED / f"{seed}-{index}-{name}.jpg"
    try:
        data = kept.read_bytes()
    except OSError:
        data = paint(seed, index, name)
        _keep(kept, data)
    return ImageInfo(data=data, content_type="image/jpeg", width=WIDTH, height=HEIGHT)


def _keep(path: Path, data: bytes) -> None:
    """Write atomically (several workers may paint at once); a read-only disk just repaints."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        pass


def paint(seed: str, index: int, scene: str) -> bytes:
    """Paint one photo; the same (seed, index, scene) always gives the same bytes."""
    rng = random.Random(f"{seed}:{index}:{scene}")  # noqa: S311 (pictures, not secrets)
    canvas = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), (0, 0, 0))
    SCENES[scene](Pen(canvas, rng))
    photo = canvas.resize((WIDTH, HEIGHT), Image.Resampling.BOX)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue()
