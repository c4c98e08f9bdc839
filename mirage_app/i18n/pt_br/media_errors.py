"""Português (Brasil) — por que um arquivo de mídia foi recusado, e os outros erros da biblioteca de mídia."""

MEDIA_ERRORS: dict[str, str] = {
    "media.rejected.empty": "O arquivo está vazio.",
    "media.rejected.unsupported_type": (
        "Este tipo de arquivo não é aceito aqui: imagens e figurinhas aceitam PNG, JPEG, WebP ou GIF; áudios "
        "aceitam OGG (Opus ou Vorbis), WAV, FLAC ou MP3."
    ),
    "media.rejected.too_large": "O arquivo é grande demais: no máximo {limit_mb} MB para este tipo de mídia.",
    "media.rejected.too_many_pixels": "A imagem é grande demais: no máximo {limit} megapixels.",
    "media.rejected.undecodable_image": "Não foi possível ler a imagem: o arquivo está danificado ou incompleto.",
    "media.rejected.undecodable_audio": "Não foi possível ler o áudio: o arquivo está danificado ou incompleto.",
    "media.rejected.too_long": "O áudio é longo demais: no máximo {limit_s} segundos.",
    "media.rejected.too_short": "O áudio é curto demais: no mínimo {limit_s} segundos.",
    "media.kind_invalid": "Escolha imagem, figurinha ou áudio.",
    "media.tags_invalid": "As etiquetas são no máximo {limit} palavras de até 30 letras, números ou hífens.",
    "media.not_found": "Arquivo de mídia não encontrado.",
    "media.body_too_large": "O envio é grande demais: no máximo {limit_mb} MB.",
    "media.file_required": "Escolha um arquivo para enviar.",
}
