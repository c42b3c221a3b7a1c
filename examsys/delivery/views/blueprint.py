"""The staff pages' Flask blueprint `bp` ("delivery", /delivery), on its own so that the page
modules can import it while the package imports them."""

from flask import Blueprint

bp = Blueprint("delivery", __name__, url_prefix="/delivery")
