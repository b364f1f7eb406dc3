"""Slipstream's segmenter: a safe upload in, a content-addressed HLS package out.

`package(src, outdir)` probes, plans the ladder, runs one ffmpeg process, writes the poster, the
master playlist and manifest.json, and returns (video id, manifest). Importing this package loads
nothing heavy: PyAV and ffmpeg-python are imported when a package is made.
"""
import os
import shutil

from .errors import EncodeError, ProbeError, RejectedInput, SegmenterError

__all__ = ["package", "SegmenterError", "ProbeError", "RejectedInput", "EncodeError"]

ENCODE_SHARE = 0.95  # of the progress bar; the poster and hashing take the rest
TRUNCATED_SHARE = 0.9  # less than this share of the declared duration (less 1 s) is a cut file


def package(src, outdir, on_progress=None, limits=None):
    """Package the upload at `src` into the empty (or new) folder `outdir`.

    `on_progress` receives {"progress": 0..1, "speed": float|None, "eta": seconds|None}. On any
    failure the folder is emptied (and removed if this call created it) and a SegmenterError
    subclass is raised.
    """
    from protocol import manifest
    from protocol.errors import ManifestError

    from . import command, config, ladder, master, probe, runner, thumbnails

    info = probe.probe(src, limits or probe.LIMITS)
    renditions = ladder.plan(info)
    top = renditions[0]
    sheet = thumbnails.plan(info.duration, top.width, top.height) if top.width else None
    created = _prepare(outdir)
    try:
        binary = config.ffmpeg_binary()
        runner.run([binary, *command.encode_args(info, renditions, src, sheet, poster=True)],
                   duration=info.duration, on_progress=_scaled(on_progress, ENCODE_SHARE),
                   cwd=outdir)
        if not info.has_video:  # a video's poster came out of the encode; draw the sound's
            runner.run([binary, *command.waveform_args(info, src)], cwd=outdir,
                       duration=info.duration)
        if sheet is not None and not os.path.isfile(os.path.join(outdir, thumbnails.SPRITE)):
            sheet = None  # no frame reached the sheet (a video track that ends at once)
        if sheet is not None:
            thumbnails.write_track(outdir, sheet, info.duration)
        _tell(on_progress, 0.98)
        variants = master.write_master(outdir, renditions)
        _check_complete(variants[0].seconds, info.duration)
        meta = manifest.build_manifest(
            outdir, duration=round(info.duration, 3), poster=command.POSTER,
            thumbnails=thumbnails.TRACK if sheet else None,  # audio-only: no picture to preview
            renditions=[{"name": v.rendition.name, "width": v.rendition.width,
                         "height": v.rendition.height, "bandwidth": v.bandwidth,
                         "playlist": v.playlist} for v in variants])
        video_id = manifest.write_manifest(outdir, meta)
    except BaseException as exc:
        _clean(outdir, created)
        if isinstance(exc, (OSError, ManifestError)):
            raise EncodeError(f"cannot write the package: {exc}") from exc
        raise
    _tell(on_progress, 1.0, eta=0.0)
    return video_id, meta


def _check_complete(encoded, declared):
    """Refuse a file whose data ends well before its header says (a cut upload, a forged
    duration): ffmpeg stops quietly at the end of the data and would publish a short video."""
    if encoded < declared * TRUNCATED_SHARE - 1.0:
        raise RejectedInput(f"the file is truncated or damaged: only {encoded:.1f} s of its "
                            f"{declared:.1f} s could be read", 422)


def _scaled(on_progress, share):
    """ffmpeg's 0..1 mapped onto the first `share` of the job's progress."""
    if on_progress is None:
        return None
    return lambda update: on_progress({**update, "progress": update["progress"] * share})


def _tell(on_progress, fraction, eta=None):
    if on_progress is not None:
        on_progress({"progress": fraction, "speed": None, "eta": eta})


def _prepare(outdir):
    try:
        os.makedirs(outdir)
        return True
    except FileExistsError:
        if not os.path.isdir(outdir) or os.listdir(outdir):
            raise SegmenterError(f"output folder {outdir} exists and is not empty") from None
        return False


def _clean(outdir, created):
    if created:
        shutil.rmtree(outdir, ignore_errors=True)
        return
    for name in os.listdir(outdir):
        path = os.path.join(outdir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
