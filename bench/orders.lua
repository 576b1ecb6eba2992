-- wrk script: POST /api/v1/orders as many buyers (one signed token each, read from the file given after "--"),
-- every request with its own Idempotency-Key.
-- Optional second argument: a target rate in orders/s for the whole run (see rate.lua).
--
-- ORDERS_MIX chooses the lines: "uniform" (the default) is one line per order, its product drawn evenly over the
-- whole catalog; "hot" is what a shop with popular products meets: 1 to 4 lines of distinct products, each drawn from
-- a Zipf distribution (s = 1.2) over the catalog, so the 5 most popular products are 55% of the lines and about 8
-- orders in 10 hold at least one of them (2.3 lines an order on average).
--
-- With ORDERS_RECORD=FILE in the environment, every request and every answer is appended to FILE when wrk ends, so
-- that bench/run.sh can match each order by identity rather than by count:
--   sent TOKEN_LINE IDEMPOTENCY_KEY     (the buyer is the subject of line TOKEN_LINE of the token file)
--   answer STATUS ORDER_ID              (ORDER_ID from a 202's body, "-" for any other answer)
-- wrk does not say which request an answer is for (a thread's connections interleave), so answers carry the order id
-- the API gave instead. Keys start with ORDERS_RUN (default "bench"), so a run's orders can be found by their keys.
-- wrk calls request() once more on its first thread to check the script, for a request it never sends: that "sent"
-- line has no answer and no order, and is harmless.
package.path = "bench/?.lua;" .. package.path
local rate = require("rate")
local tokens, counter, run = {}, 0, nil
local recording = os.getenv("ORDERS_RECORD")
records = {} -- global: done() reads each thread's records with thread:get

rate.install(2, function(args)
  for line in io.lines(args[1]) do table.insert(tokens, line) end
  -- Random per thread and per wrk run, so the warm-up's keys never repeat in the measured run that follows it.
  local urandom = assert(io.open("/dev/urandom", "rb"))
  local nonce = urandom:read(6):gsub(".", function(c) return string.format("%02x", c:byte()) end)
  urandom:close()
  run = string.format("%s-%s", os.getenv("ORDERS_RUN") or "bench", nonce)
end)

local threads = {}
local rate_setup = setup
setup = function(thread)
  rate_setup(thread)
  table.insert(threads, thread)
end

local products = 120
local body_format = '{"lines":[%s],"buyerName":"Load Test","email":"load@example.com",'
  .. '"shippingAddress":{"street":"1 Bench Road","city":"Leeds","postalCode":"LS1 1AA","country":"United Kingdom"}}'
local line_format = '{"productId":%d,"quantity":%d}'

local mix = os.getenv("ORDERS_MIX") or "uniform"
assert(mix == "uniform" or mix == "hot", "ORDERS_MIX must be uniform or hot, not " .. mix)

-- The hot mix's cumulative Zipf weights: product k (1 = most popular) has weight k^-1.2.
local zipf = {}
do
  local total = 0
  for k = 1, products do total = total + k ^ -1.2 end
  local sum = 0
  for k = 1, products do sum = sum + k ^ -1.2 / total; zipf[k] = sum end
end

local function popular_product()
  local u, low, high = math.random(), 1, products
  while low < high do
    local middle = math.floor((low + high) / 2)
    if zipf[middle] < u then low = middle + 1 else high = middle end
  end
  return low
end

local function lines()
  if mix == "uniform" then
    return string.format(line_format, math.random(1, products), math.random(1, 3))
  end
  local chosen, taken = {}, {}
  for _ = 1, math.random(1, 4) do
    local product = popular_product()
    if not taken[product] then
      taken[product] = true
      chosen[#chosen + 1] = string.format(line_format, product, math.random(1, 3))
    end
  end
  return table.concat(chosen, ",")
end

function request()
  counter = counter + 1
  local thread_id = rate.thread_id()
  local token_line = ((counter * 7 + thread_id) % #tokens) + 1
  local key = string.format("%s-%d-%d", run, thread_id, counter)
  if recording then records[#records + 1] = string.format("sent %d %s", token_line, key) end
  return wrk.format("POST", "/api/v1/orders", {
    ["Authorization"] = "Bearer " .. tokens[token_line],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, string.format(body_format, lines()))
end

-- Defined only when recording: with a response() wrk parses every answer's headers and body, which costs it CPU.
if recording then
  function response(status, headers, body)
    local id = "-"
    if status == 202 then
      id = (body and body:match('"id"%s*:%s*"([^"]+)"'))
        or (headers["Location"] and headers["Location"]:match("/api/v1/orders/([^/?]+)$")) or "?"
    end
    records[#records + 1] = string.format("answer %d %s", status, id)
  end

  function done()
    local file = assert(io.open(recording, "a"))
    for _, thread in ipairs(threads) do
      for _, line in ipairs(thread:get("records")) do file:write(line, "\n") end
    end
    file:close()
  end
end
