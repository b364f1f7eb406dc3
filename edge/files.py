"""Two file operations that tolerate a file being gone: transfers and sweeps race on purpose."""
import os


def remove_quietly(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def size_or_zero(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0
