"""Incident reports (manual 000, "Create a report"): every piece of textual information of one
incident project, as a PDF rendered by WeasyPrint from an HTML template and a CSS file kept beside
this package.  Reading is done part by part so a failure part-way still gives a report that says
what it is missing."""
