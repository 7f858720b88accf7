"""Test support: a generated test PKI (pki.py) and builders of real PDFs (pdfs.py)."""
