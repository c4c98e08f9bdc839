"""Media files a number sends: pictures, stickers and voice notes.

Without I/O beyond the bytes handed in (and, for a generated voice note, the speech API when one is configured):
`sniff` identifies and normalises an uploaded file by its content, `draw` draws pictures and stickers offline,
`speech` turns a line of text into a voice note. The library itself (the database) is services/media_library.py.
"""
