"""One side of a data channel between two homes (aiortc), run inside a home's namespace:
`python -m tests.netns.peer offer|answer STUN_URL SECONDS`. The test carries the descriptions between
the two over stdin/stdout as JSON lines (no trickle: every candidate is in the description), as the
tracker's signalling would; each side then prints `{"open": true, ...}` once the channel carried a
message to it, or `{"open": false, ...}` at its deadline."""
import asyncio
import json
import sys

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription


async def read_description():
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    return RTCSessionDescription(**json.loads(line))


def write(document):
    print(json.dumps(document), flush=True)


async def main(role, stun_url, seconds):
    connection = RTCPeerConnection(RTCConfiguration([RTCIceServer(stun_url)]))
    arrived = asyncio.get_running_loop().create_future()

    def listen(channel):
        @channel.on("message")
        def on_message(message):
            if message == "ping":
                channel.send("pong")
            if not arrived.done():
                arrived.set_result(message)

    if role == "offer":
        channel = connection.createDataChannel("slipstream")
        channel.on("open", lambda: channel.send("ping"))
        listen(channel)
        await connection.setLocalDescription(await connection.createOffer())
        write({"sdp": connection.localDescription.sdp, "type": "offer"})
        await connection.setRemoteDescription(await read_description())
    else:
        connection.on("datachannel", listen)
        await connection.setRemoteDescription(await read_description())
        await connection.setLocalDescription(await connection.createAnswer())
        write({"sdp": connection.localDescription.sdp, "type": "answer"})
    try:
        write({"open": True, "message": await asyncio.wait_for(arrived, seconds)})
    except TimeoutError:
        write({"open": False, "ice": connection.iceConnectionState})
    await connection.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
