"""The campaign's workforce: training of the cities' evaluation management staff, examiner and
supervisor training, qualification (资格认定) and dispatch (派遣) records, and the warnings
(certificates about to expire, organisations short of certified staff)."""
