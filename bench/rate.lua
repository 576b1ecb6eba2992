-- Holds a wrk run near a target rate (wrk itself only runs flat out): every connection waits between its requests so
-- that all WRK_CONNECTIONS of them together send about the target requests/s. wrk starts its latency clock when a
-- request is written, so the wait does not count as latency. Without a target, wrk runs flat out.
local rate = {}
local threads, target = 0, nil

function rate.thread_id() return rate_thread_id end

-- Defines wrk's setup, init and delay for a script that takes its target rate as argument number rate_argument after
-- "--"; on_init(args), if given, runs in each thread's init as well. Each thread seeds math.random differently.
function rate.install(rate_argument, on_init)
  setup = function(thread)
    threads = threads + 1
    thread:set("rate_thread_id", threads)
  end
  init = function(args)
    target = tonumber(args[rate_argument])
    math.randomseed(os.time() * 100 + rate_thread_id)
    if on_init then on_init(args) end
  end
  delay = function()
    if not target or target <= 0 then return 0 end
    return math.floor(1000 * tonumber(os.getenv("WRK_CONNECTIONS")) / target)
  end
end

return rate
