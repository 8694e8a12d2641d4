"""Uploaded profile images are untrusted bytes: prove they are an image, then re-encode them.

A file whose name ends in ``.png`` may be HTML, an SVG with script, a polyglot or a
decompression bomb. Pillow must parse it as PNG, JPEG or WebP within size and pixel limits, and
the stored file is a fresh encoding of the decoded pixels (trailing payloads and metadata do not
survive) under a random name, so nothing about the upload's name or contents decides what is
written to disk or how it would be served.
"""

from __future__ import annotations

import io
import uuid
import warnings

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 4096
ALLOWED_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}


def random_image_name(ext: str) -> str:
    """An unguessable name: the uploader's file name never reaches the file system."""
    return f"{uuid.uuid4().hex}{ext}"


def user_image_path(instance: object, filename: str) -> str:
    """``upload_to`` for ``CustomUser.user_image``: keep only a known extension, randomize."""
    ext = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in ALLOWED_FORMATS.values() and ext not in {".jpeg"}:
        ext = ""
    return f"user_images/{random_image_name(ext)}"


def _read_limited(upload: object) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(f"image is {size} bytes; the limit is {MAX_BYTES} bytes (2 MB)")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_BYTES + 1)  # type: ignore[attr-defined]
    if len(data) > MAX_BYTES:
        raise ValidationError(f"image is larger than the limit of {MAX_BYTES} bytes (2 MB)")
    if not data:
        raise ValidationError("the uploaded file is empty")
    return data


def sanitize_image(upload: object) -> ContentFile:
    """Validate an upload and return a re-encoded copy with a random name.

    Raises ``ValidationError`` naming what is wrong (type, byte size, dimensions, corruption).
    """
    data = _read_limited(upload)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                width, height = probe.size
                if fmt not in ALLOWED_FORMATS:
                    raise ValidationError(
                        f"unsupported image type {fmt or 'unknown'}; use PNG, JPEG or WebP"
                    )
                if width > MAX_SIDE or height > MAX_SIDE:
                    raise ValidationError(
                        f"image is {width}x{height} pixels; the limit is {MAX_SIDE}x{MAX_SIDE}"
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                if fmt == "JPEG" and img.mode not in {"RGB", "L", "CMYK"}:
                    img = img.convert("RGB")
                elif img.mode not in {"RGB", "RGBA", "L", "LA", "P", "CMYK"}:
                    img = img.convert("RGBA")
                out = io.BytesIO()
                img.save(out, format=fmt)
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("not a PNG, JPEG or WebP image (or too many pixels)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"corrupt or truncated image: {exc}") from None
    return ContentFile(out.getvalue(), name=random_image_name(ALLOWED_FORMATS[fmt]))


def validate_image_file(upload: object) -> None:
    """Model-field validator: the same checks as ``sanitize_image`` (admin uploads included)."""
    sanitize_image(upload)
    if hasattr(upload, "seek"):
        upload.seek(0)
