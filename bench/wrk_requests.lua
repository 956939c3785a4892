-- wrk script of bench/ratios.py: send prepared requests in turn.
--
--   wrk -t2 -c16 -d10s --latency -s bench/wrk_requests.lua http://127.0.0.1:PORT -- REQUESTS.lua
--
-- REQUESTS.lua (written by bench/ratios.py) returns a list of
-- {method, path, headers, body}. Thread i of n sends requests i+1, i+1+n,
-- i+1+2n, ... so no two threads send the same one (signed SOAP messages and
-- client assertions are refused when replayed). The first non-2xx answer of
-- each thread is printed, to say why.

local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

function init(args)
   local list = dofile(args[1])
   prepared = {}
   for i, r in ipairs(list) do
      prepared[i] = wrk.format(r[1], r[2], r[3], r[4])
   end
   step = tonumber(args[2] or "1")
   index = tid
   told = false
end

function request()
   local r = prepared[(index % #prepared) + 1]
   index = index + step
   return r
end

function response(status, headers, body)
   if status >= 300 and not told then
      told = true
      io.stderr:write("non-2xx " .. status .. ": " .. string.sub(body or "", 1, 600) .. "\n")
   end
end
