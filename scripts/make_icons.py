"""Draw the app icons (run once; the PNGs are committed). Needs a CJK font (fonts-noto-cjk)."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"
NAVY, WHITE, RED = (18, 53, 91), (255, 255, 255), (192, 38, 45)
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"


def draw(size: int, safe_zone: float) -> Image.Image:
    """A navy tile with a white shield and 枫; `safe_zone` shrinks it for maskable icons."""
    image = Image.new("RGB", (size, size), NAVY)
    pen = ImageDraw.Draw(image)
    inner = size * safe_zone
    left, top = (size - inner) / 2, (size - inner) / 2
    w, h = inner, inner
    shield = [(left + w * 0.5, top + h * 0.06), (left + w * 0.88, top + h * 0.2),
              (left + w * 0.84, top + h * 0.62), (left + w * 0.5, top + h * 0.94),
              (left + w * 0.16, top + h * 0.62), (left + w * 0.12, top + h * 0.2)]
    pen.polygon(shield, fill=WHITE)
    font = ImageFont.truetype(FONT, int(h * 0.42))
    pen.text((left + w * 0.5, top + h * 0.5), "枫", font=font, fill=RED, anchor="mm")
    return image


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    # A 32-colour palette keeps the icons a few KB: they count towards the first visit's 40 KB.
    def save(image, name):
        image.quantize(colors=32, method=Image.Quantize.MEDIANCUT).save(OUT / name, optimize=True)

    save(draw(192, 0.9), "icon-192.png")
    save(draw(512, 0.9), "icon-512.png")
    save(draw(512, 0.62), "maskable-512.png")
    print("icons written to", OUT)
