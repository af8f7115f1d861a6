"""The benchmark suite behind `make bench`.

Every figure is printed beside a reference measured in the same run, with the
ratio; results go to bench/results/ as JSON. Nothing here is a test: targets
are reported, never asserted.
"""
