"""Video: camera sources (OpenCV and synthetic), recording, media store.  No Textual here."""
