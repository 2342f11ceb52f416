"""The embedded demo data: digit scans rendered onto canvases, written as VOC-layout and
class-folder sets (``python -m softeq_lab.digits.make_demo_data``)."""
