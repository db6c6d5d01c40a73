"""The citizen web portal: log in by OTP, register the family, search, book, reschedule, cancel."""
