// celestia-node's TxConfig: how a blob submission pays (gas price, its cap, gas limit, which key).
// Always send an object ({} for the node's defaults), never null.
export interface TxConfigJson {
  gas_price?: number;
  is_gas_price_set?: boolean;
  max_gas_price?: number;
  gas?: number;
  tx_priority?: number;
  key_name?: string;
  signer_address?: string;
  fee_granter_address?: string;
}
