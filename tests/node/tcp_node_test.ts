/**
 * The Node TCP adapter (`connectTcpNode`) against the TCP connector contract.
 */

import { connectTcpNode } from "../../node_adapter/mod.ts";
import { tcpContract } from "../_support/tcp_contract.ts";

tcpContract("node tcp", connectTcpNode);
