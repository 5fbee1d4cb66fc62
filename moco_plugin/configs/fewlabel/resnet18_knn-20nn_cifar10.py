# Few labels, weighted k-NN over the labelled images' features (no training).
mode = 'knn'
knn = dict(k=20, temperature=0.1)
