"""The ``luutru`` command line. rich (progress bars, tables) lives only here."""
