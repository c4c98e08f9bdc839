"""English — why a media file was refused, and the media library's other errors."""

MEDIA_ERRORS: dict[str, str] = {
    "media.rejected.empty": "The file is empty.",
    "media.rejected.unsupported_type": (
        "This file type is not accepted here: pictures and stickers take PNG, JPEG, WebP or GIF; voice notes "
        "take OGG (Opus or Vorbis), WAV, FLAC or MP3."
    ),
    "media.rejected.too_large": "The file is too large: at most {limit_mb} MB for this kind of media.",
    "media.rejected.too_many_pixels": "The picture is too large: at most {limit} megapixels.",
    "media.rejected.undecodable_image": "The picture could not be read: the file is damaged or incomplete.",
    "media.rejected.undecodable_audio": "The audio could not be read: the file is damaged or incomplete.",
    "media.rejected.too_long": "The voice note is too long: at most {limit_s} seconds.",
    "media.rejected.too_short": "The voice note is too short: at least {limit_s} seconds.",
    "media.kind_invalid": "Choose picture, sticker or voice note.",
    "media.tags_invalid": "Tags are at most {limit} words of up to 30 letters, digits or dashes.",
    "media.not_found": "Media file not found.",
    "media.body_too_large": "The upload is too large: at most {limit_mb} MB.",
    "media.file_required": "Choose a file to upload.",
}
