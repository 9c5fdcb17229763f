"""PDF documents of the portal (settlement sheet, minute quota statement), drawn with reportlab.

Why reportlab: docs/decisions.md. Fonts: DejaVu Sans, embedded, so ő and ű survive and the text extracts.
"""
