"""``make demo``: pretrain a small SegFormer on the demo data, fine-tune its Base and SoftEq
twins, evaluate them rotated, print the side-by-side table
(``python -m softeq_lab.demo.run_demo``)."""
