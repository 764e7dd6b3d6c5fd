# threadmill in a container: Debian slim + Node 20 + the built package, its native parts compiled
# (libdeflate inflate/deflate, better-sqlite3, tree-sitter grammars, lz4). The name `threadmill`
# is not published on npm: build this image yourself and push it where your cluster pulls from.
#
#   docker build -t registry.example.org/you/threadmill:0.1.0 .
#   docker run --rm -v "$PWD:/data" registry.example.org/you/threadmill:0.1.0 fastq stats /data/reads.fq
#
# Kubernetes Indexed Job + merge using it: docs/scale-out.md and examples/kubernetes/.

# --- build: compile TypeScript, pack the package, install it with its native parts -----------
# (node-gyp fetches Node's headers for the native builds: the build needs network access.)
FROM node:20-bookworm-slim AS build
# python3, make, g++: node-gyp (tree-sitter, better-sqlite3 when no prebuilt binary fits, ours);
# libdeflate-dev, zlib1g-dev: headers of threadmill's native deflate/inflate (binding.gyp).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ libdeflate-dev zlib1g-dev ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Dev dependencies for tsc; no install scripts: nothing native is needed to compile TypeScript.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json README.md binding.gyp ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY proto ./proto
COPY native ./native
COPY scripts/build-native.mjs ./scripts/build-native.mjs
# npm pack runs the package's `prepare` script (tsc) before packing dist/src.
RUN npm pack --pack-destination /tmp \
 && npm install --global --prefix /opt/threadmill --omit=dev --no-audit --no-fund /tmp/threadmill-*.tgz \
 # The native module must have been built: fail the image, not the first run on the cluster.
 && test -n "$(find /opt/threadmill/lib/node_modules/threadmill/build/Release -name '*.node' 2>/dev/null)"

# --- runtime: the installed package and the shared libraries it links ---------------------------
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libdeflate0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/threadmill /opt/threadmill
ENV PATH=/opt/threadmill/bin:$PATH
# Smoke test at build time: the CLI starts and says its version.
RUN threadmill --version
WORKDIR /data
ENTRYPOINT ["threadmill"]
CMD ["--help"]
