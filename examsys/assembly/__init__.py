"""Paper assembly: blueprints (细目表), the HiGHS solver, papers and their forms."""
