"""Gunicorn settings. Access lines carry no client address, and respondent routes none at all."""
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
worker_class = "sync"
timeout = 30
logger_class = "survey.logs.GunicornLogger"
accesslog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
# Only trust forwarded headers from a proxy on this host; the app never reads the client address.
forwarded_allow_ips = "127.0.0.1"
