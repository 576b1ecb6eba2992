-- wrk script: GET one cached product by id (the request the ceiling is compared with), optionally at a target rate
-- for the whole run given after "--" (see rate.lua).
package.path = "bench/?.lua;" .. package.path
local rate = require("rate")

rate.install(1)

function request() return wrk.format("GET", "/api/v1/products/1") end
