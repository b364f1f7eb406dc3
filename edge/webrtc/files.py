"""The package files of one video over a viewer's data channel (protocol/datachannel.py's format).

Only the published files of the video the viewer connected for are served, by the same rule as HTTP
(edge/published.py: listed in the manifest, no symlink, the listed size). Several requests may be in
flight; the answers' chunks interleave as the tasks take turns. Backpressure: a sender waits while the
channel holds more than HIGH_WATER bytes unsent, until aiortc's `bufferedamountlow` says it drained to
LOW_WATER, so a viewer who stops reading holds at most that much of the edge's memory.
"""
import asyncio
import logging
import os

from protocol.datachannel import CHUNK, BadRequest, frame, head, parse_request

log = logging.getLogger(__name__)

HIGH_WATER = 1024 * 1024
LOW_WATER = 256 * 1024
IN_FLIGHT = 8  # requests one channel may have answered at once; the player keeps 4 in flight


class ChannelFiles:
    def __init__(self, manifests, video_id, stats, touch):
        self.manifests, self.video_id, self.stats, self.touch = manifests, video_id, stats, touch
        self.slots = asyncio.Semaphore(IN_FLIGHT)
        self.drained = asyncio.Event()
        self.drained.set()
        self.tasks = set()

    def attach(self, channel):
        self.channel = channel
        channel.bufferedAmountLowThreshold = LOW_WATER
        channel.on("bufferedamountlow", self.drained.set)
        channel.on("message", self.received)
        channel.on("close", self.cancel)

    def received(self, message):
        self.touch()
        if not isinstance(message, str):
            return  # viewers only send requests
        task = asyncio.ensure_future(self.answer(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def cancel(self):
        for task in list(self.tasks):
            task.cancel()

    async def answer(self, message):
        async with self.slots:
            try:
                request_id, path, byte_range = parse_request(message)
            except BadRequest as exc:
                self.channel.send(head(exc.request_id, 400, 0, 0))
                return
            opened = self.manifests.open(self.video_id, path)
            if opened is None:
                self.channel.send(head(request_id, 404, 0, 0))
                return
            fd, info, _ = opened
            try:
                await self.send_file(request_id, fd, info.st_size, byte_range)
            finally:
                os.close(fd)

    async def send_file(self, request_id, fd, size, byte_range):
        start, end = (0, size - 1) if byte_range is None else byte_range
        if byte_range is not None and start >= size:
            self.channel.send(head(request_id, 416, size, 0))
            return
        end = min(end, size - 1)
        length = max(end - start + 1, 0)
        self.channel.send(head(request_id, 200 if byte_range is None else 206, size, length))
        offset = start
        while offset <= end:
            await self.room()
            data = os.pread(fd, min(CHUNK, end + 1 - offset), offset)
            if not data:  # the file shrank under us: the channel's answer stays short, the viewer times out
                log.warning("file of %s ended early at %d", self.video_id, offset)
                return
            self.channel.send(frame(request_id, data))
            offset += len(data)
            self.stats.sent(len(data))
            self.touch()

    async def room(self):
        while self.channel.bufferedAmount > HIGH_WATER:
            self.drained.clear()
            await self.drained.wait()
        await asyncio.sleep(0)  # let the other requests' tasks and the SCTP transport run
