"""PDF documents rendered with WeasyPrint from Jinja templates under templates/reports/: exam
papers, answer keys and compliance reports (``papers``), through the one helper ``pdf.render_pdf``
(CJK fonts, the print stylesheet, no resource fetched from outside this system)."""
