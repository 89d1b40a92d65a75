"""The reference app of `make bench`: Flask's hello-world, served by the same gunicorn command as the
real app, so its CPU per request is the floor of Flask + gunicorn on this machine at this moment."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
