"""The seam to Google: everything that talks to Sheets v4 and Drive v3 lives in this package.

``store`` is the WorkbookStore the verbs use; ``api`` and ``http`` send requests (sign-in,
pacing, retries, error wording); ``drive`` finds, creates and shares files; ``bodies`` and
``feedback`` build request bodies as pure functions; ``rollup`` publishes the province rollup
spreadsheet. ``fake`` is a loopback Sheets/Drive server that behaves as Google does, for the
tests, the benchmarks and ``toolkit demo --backend gsheets``.
"""
