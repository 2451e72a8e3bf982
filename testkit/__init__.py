"""Test data the tests and benchmarks build for themselves: PDFs drawn with reportlab, contract dicts.

Installed with the project but needing the dev extra (reportlab): the library never imports it.

    synth.py      reports drawn from text blocks in several layouts (gov, word, cid fonts)
    planted.py    planted arithmetic errors in drawn reports, and an oracle independent of the pipeline
    pdfs.py       small PDFs drawn line by line, for layout edge cases
    contracts.py  contract dicts from the dev corpus' gold answers, for the store's tests and benchmark
    files.py      files for ingestion: bad ones of every kind, many different good ones
"""
