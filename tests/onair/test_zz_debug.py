import asyncio, traceback
from radio import workers
from radio.worker import Context

async def test_dbg(settings):
    w = workers.load("playout")(Context.from_settings(settings), None)
    try:
        await w.run()
    except BaseException:
        traceback.print_exc()
        raise
