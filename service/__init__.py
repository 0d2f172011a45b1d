"""The central service: authenticated ingest from many sensors, query, live stream.

Build an app with :func:`service.app.create_app`; ``spectrum serve`` runs it under uvicorn.
This package never imports numba, scipy or any DSP code (only the light event contract).
"""
